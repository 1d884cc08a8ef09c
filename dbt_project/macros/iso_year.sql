{# Why: the ISO 8601 week-numbering year (2022-01-01 is in ISO week 52 of 2021): DuckDB's
   isoyear, Spark's extract(yearofweek ...). #}
{% macro iso_year(value) -%}
    {{ return(adapter.dispatch('iso_year', 'kzdw')(value)) }}
{%- endmacro %}

{% macro default__iso_year(value) -%}
    isoyear({{ value }})
{%- endmacro %}

{% macro spark__iso_year(value) -%}
    extract(yearofweek from {{ value }})
{%- endmacro %}
