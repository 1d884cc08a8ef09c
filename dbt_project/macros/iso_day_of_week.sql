{# Why: the calendar numbers weekdays as ISO 8601 does (1 = Monday ... 7 = Sunday); DuckDB
   names that isodow, Spark extract(dow_iso ...) (its dayofweek counts from Sunday). #}
{% macro iso_day_of_week(value) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'kzdw')(value)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(value) -%}
    isodow({{ value }})
{%- endmacro %}

{% macro spark__iso_day_of_week(value) -%}
    extract(dow_iso from {{ value }})
{%- endmacro %}
