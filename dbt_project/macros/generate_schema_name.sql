{# Why: the warehouse's layers are fixed schema names (staging, intermediate, marts, seeds)
   that the orchestrator, the GX suites and analysts read; dbt's default would prefix them
   with the target schema (main_staging). #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
