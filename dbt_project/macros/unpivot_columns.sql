{# Why: the KPI columns of a domain model are unpivoted into rows without naming them (a new
   KPI is one column more). DuckDB selects them with a star expression; Spark's UNPIVOT needs
   the names, read from the built relation. #}
{% macro unpivot_columns(relation, exclude) -%}
    {{ return(adapter.dispatch('unpivot_columns', 'kzdw')(relation, exclude)) }}
{%- endmacro %}

{% macro default__unpivot_columns(relation, exclude) -%}
    columns(* exclude ({{ exclude | join(', ') }}))
{%- endmacro %}

{% macro spark__unpivot_columns(relation, exclude) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation)
            if column.name | lower not in exclude -%}
            {%- do names.append(column.name) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ names | join(', ') }}
{%- endmacro %}
