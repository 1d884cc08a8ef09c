{# Why: the days from one date to another. DuckDB subtracts dates into a number of days;
   Spark's date - date is an interval, which arithmetic with numbers refuses. #}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'kzdw')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    ({{ end_date }} - {{ start_date }})
{%- endmacro %}

{% macro spark__days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}
