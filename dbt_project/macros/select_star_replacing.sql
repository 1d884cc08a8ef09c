{# Why: a staging view passes a raw table's columns through by name, in their order, and
   recomputes one or two of them (`replacements`: {column: expression}): the column list is
   written once, in the contract. DuckDB says so in the select list (* replace); Spark with
   its pipe syntax (|> set), which keeps each column in its place. #}
{% macro select_star_replacing(relation, replacements) -%}
    {{ return(adapter.dispatch('select_star_replacing', 'kzdw')(relation, replacements)) }}
{%- endmacro %}

{% macro default__select_star_replacing(relation, replacements) -%}
    select
        * replace (
            {%- for column, expression in replacements.items() %}
            {{ expression }} as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        )
    from {{ relation }}
{%- endmacro %}

{% macro spark__select_star_replacing(relation, replacements) -%}
    select * from {{ relation }}
    |> set
        {%- for column, expression in replacements.items() %}
        {{ column }} = {{ expression }}{{ ',' if not loop.last }}
        {%- endfor %}
{%- endmacro %}
