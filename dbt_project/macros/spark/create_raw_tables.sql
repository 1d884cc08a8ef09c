{# Why: on Spark the raw layer is the lake the loader writes (KZDW_LAKE), not DuckDB's file:
   each accepted batch of a source as <lake>/<source>/load=<load_id>/part-*.parquet, and the
   whole of audit.file_loads as <lake>/_audit/file_loads.parquet. Before a build (on-run-start)
   every source of the raw and audit layers becomes a table over those files, with the columns
   and types of its yml (the contract's), so that source('raw', ...) reads on Spark what it
   reads on DuckDB. Made anew on every run: a long-lived Thrift Server would otherwise keep the
   file listing of an earlier run. The load=<id> folders are not read as a partition column
   (recursiveFileLookup): the rows carry _load_id themselves, and a source with no load yet is
   an empty table. Types: DuckDB's VARCHAR is Spark's string; TIMESTAMP, local time without a
   zone, is TIMESTAMP_NTZ, as DuckDB writes it to Parquet (not adjusted to UTC). Nothing on
   DuckDB, whose raw layer is in the warehouse file. #}
{% macro create_raw_tables() -%}
    {{ return(adapter.dispatch('create_raw_tables', 'kzdw')()) }}
{%- endmacro %}

{% macro default__create_raw_tables() -%}
{%- endmacro %}

{% macro spark__create_raw_tables() -%}
    {%- set lake = env_var('KZDW_LAKE', '') | trim -%}
    {%- if execute -%}
        {%- if not lake.startswith('/') -%}
            {%- do exceptions.raise_compiler_error(
                'KZDW_LAKE must be the absolute path of the lake folder, not "' ~ lake ~ '"'
            ) -%}
        {%- endif -%}
        {%- set spark_types = {'varchar': 'string', 'timestamp': 'timestamp_ntz'} -%}
        {%- set schemas = [] -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id')
            if node.source_name in ('raw', 'audit') -%}
            {%- if node.schema not in schemas -%}
                {%- do run_query('create schema if not exists ' ~ node.schema) -%}
                {%- do schemas.append(node.schema) -%}
            {%- endif -%}
            {%- set columns = [] -%}
            {%- for column in node.columns.values() -%}
                {%- if not column.data_type -%}
                    {%- do exceptions.raise_compiler_error(
                        'source ' ~ node.source_name ~ '.' ~ node.name ~ ': column '
                        ~ column.name ~ ' has no data_type'
                    ) -%}
                {%- endif -%}
                {%- set data_type = column.data_type | lower -%}
                {%- do columns.append(column.name ~ ' ' ~ spark_types.get(data_type, data_type)) -%}
            {%- endfor -%}
            {%- if node.source_name == 'raw' -%}
                {%- set location = lake ~ '/' ~ node.name -%}
                {%- set options = "recursiveFileLookup 'true'" -%}
            {%- else -%}
                {%- set location = lake ~ '/_audit' -%}
                {%- set options = "pathGlobFilter '" ~ node.name ~ ".parquet'" -%}
            {%- endif -%}
            {%- set relation = node.schema ~ '.' ~ node.name -%}
            {%- do run_query('drop table if exists ' ~ relation) -%}
            {%- do run_query(
                'create table ' ~ relation ~ ' (' ~ columns | join(', ') ~ ') using parquet'
                ~ ' options (' ~ options ~ ")"
                ~ " location '" ~ location | replace("\\", "\\\\") | replace("'", "\\'") ~ "'"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
