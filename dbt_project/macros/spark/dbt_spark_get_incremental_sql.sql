{# Why: delete+insert on Spark's Parquet tables, which take neither DELETE nor MERGE. The rows
   the build keeps (those whose unique_key the new rows do not have) and the new rows are
   written to a table aside, which then overwrites the model's table: Spark refuses to
   overwrite a table from a query that reads it, and the new rows are computed from it
   (fct_permit_cases reads its stored cases). A Parquet table is rewritten whole either way;
   partitioned insert_overwrite would rewrite less but needs the old partitions of every
   reworked row (a case whose date was corrected moves). NULL keys match nothing, as in
   DuckDB's `key in (...)`. Overrides dbt-spark's macro of the same name (not dispatched);
   every other strategy goes to dbt-spark's own. #}
{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy != 'delete+insert' -%}
        {{ return(dbt.dbt_spark_get_incremental_sql(
            strategy, source, target, existing, unique_key, incremental_predicates
        )) }}
    {%- endif -%}
    {%- if incremental_predicates -%}
        {%- do exceptions.raise_compiler_error(
            'delete+insert on Spark does not take incremental_predicates: ' ~ target
        ) -%}
    {%- endif -%}
    {%- if not unique_key -%}
        {#- Without a key nothing is deleted: delete+insert appends. -#}
        {{ return(get_insert_into_sql(source, target)) }}
    {%- endif -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted')
        | join(', ') -%}
    {%- set staged = target.incorporate(path={'identifier': target.identifier ~ '__dbt_staged'}) -%}
    {%- set matches = [] -%}
    {%- for key in keys -%}
        {%- do matches.append('dbt_new.' ~ key ~ ' = dbt_old.' ~ key) -%}
    {%- endfor -%}
    {%- do run_query('drop table if exists ' ~ staged) -%}
    {%- set stage -%}
        create table {{ staged }} using parquet as
        select {{ columns }} from {{ target }} as dbt_old
        where not exists (
            select 1 from {{ source }} as dbt_new where {{ matches | join(' and ') }}
        )
        union all
        select {{ columns }} from {{ source }}
    {%- endset -%}
    {%- do run_query(stage) -%}
    {%- do run_query('insert overwrite table ' ~ target ~ ' select ' ~ columns ~ ' from ' ~ staged) -%}
    drop table if exists {{ staged }}
{%- endmacro %}
