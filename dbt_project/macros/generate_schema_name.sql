{# Why: the warehouse's layers are fixed schema names (staging, intermediate, marts, seeds)
   that the orchestrator, the GX suites and analysts read; dbt's default would prefix them
   with the target schema (main_staging). On Spark the layers are databases of a shared
   metastore, so they carry the target schema as a prefix (kzdw_marts): two deployments on one
   Thrift Server do not meet, and the Python side publishes them back to DuckDB's names. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ return(adapter.dispatch('generate_schema_name', 'kzdw')(custom_schema_name, node)) }}
{%- endmacro %}

{% macro default__generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

{% macro spark__generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
