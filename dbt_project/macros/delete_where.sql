{# Why: a hook removes rows of a built table (int_permit_cases_summed_by_day's day marks).
   Spark's Parquet tables take no DELETE, and Spark refuses to overwrite a table from a query
   that reads it: the rows kept are written aside first, then overwrite the table, and only
   when some row is to go (a full build has none: one count instead of two writes). #}
{% macro delete_where(relation, condition) -%}
    {{ return(adapter.dispatch('delete_where', 'kzdw')(relation, condition)) }}
{%- endmacro %}

{% macro default__delete_where(relation, condition) -%}
    delete from {{ relation }} where {{ condition }}
{%- endmacro %}

{% macro spark__delete_where(relation, condition) -%}
    {%- if execute -%}
        {%- set doomed = run_query(
            'select count(*) from ' ~ relation ~ ' where ' ~ condition
        ).columns[0].values()[0] -%}
        {%- if doomed > 0 -%}
            {%- set kept = relation.incorporate(path={'identifier': relation.identifier ~ '__dbt_kept'}) -%}
            {%- do run_query('drop table if exists ' ~ kept) -%}
            {%- do run_query(
                'create table ' ~ kept ~ ' using parquet as select * from ' ~ relation
                ~ ' where not coalesce(' ~ condition ~ ', false)'
            ) -%}
            {%- do run_query('insert overwrite table ' ~ relation ~ ' select * from ' ~ kept) -%}
            drop table if exists {{ kept }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
