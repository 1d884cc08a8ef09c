{# Why: on Spark the tables people read (marts, seeds) are published into the DuckDB warehouse
   by the orchestrator (sources/published.py), which reads Parquet files. A Spark Thrift Server
   keeps its tables wherever its own warehouse folder is, which kzdw may not see; the lake is
   the folder both see (Spark reads the raw batches from it). So after each build of such a
   table Spark writes it, whole, to <lake>/_published/<layer>/<table>/, the layer being the
   DuckDB schema (marts, seeds). Nothing on DuckDB, where the table is already in the file. #}
{% macro export_to_lake() -%}
    {{ return(adapter.dispatch('export_to_lake', 'kzdw')()) }}
{%- endmacro %}

{% macro default__export_to_lake() -%}
{%- endmacro %}

{% macro spark__export_to_lake() -%}
    {%- set lake = env_var('KZDW_LAKE', '') | trim -%}
    {%- set folder = lake ~ '/_published/' ~ config.get('schema') ~ '/' ~ this.identifier -%}
    insert overwrite directory '{{ folder | replace("\\", "\\\\") | replace("'", "\\'") }}'
    using parquet
    select * from {{ this }}
{%- endmacro %}
