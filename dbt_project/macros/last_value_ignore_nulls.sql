{# Why: the latest non-null value up to a row of a window (what an entity's latest 设立/注销/
   吊销 event says). DuckDB takes IGNORE NULLS inside the call, Spark after it; the caller
   writes the OVER clause. #}
{% macro last_value_ignore_nulls(expression) -%}
    {{ return(adapter.dispatch('last_value_ignore_nulls', 'kzdw')(expression)) }}
{%- endmacro %}

{% macro default__last_value_ignore_nulls(expression) -%}
    last_value({{ expression }} ignore nulls)
{%- endmacro %}

{% macro spark__last_value_ignore_nulls(expression) -%}
    last_value({{ expression }}) ignore nulls
{%- endmacro %}
