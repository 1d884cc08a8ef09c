{# Why: dbt-spark accepts delete+insert for no file format; on Spark here every table is plain
   Parquet (no Delta or Iceberg without downloads), which also has no MERGE. The incremental
   models keep the strategy they have on DuckDB, delete+insert, which
   dbt_spark_get_incremental_sql does on Parquet; every other strategy is checked by dbt-spark
   as before. Overrides dbt-spark's macro of the same name (not dispatched). #}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy == 'delete+insert' -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{%- endmacro %}
