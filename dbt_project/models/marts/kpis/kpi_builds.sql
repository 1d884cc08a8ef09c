-- One row per dbt build of the KPI tables, appended (incremental, never rebuilt): when it
-- ran, the as-of date it computed kpi_values for and how far audit.file_loads had got. The
-- revision history compares each build with the one before it.
{{ config(materialized='incremental', on_schema_change='append_new_columns') }}
with

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

file_loads as (

    select * from {{ source('audit', 'file_loads') }}

),

final as (

    select
        cast('{{ invocation_id }}' as string) as build_id,
        {{ local_run_started_at() }} as built_at,
        (select max(as_of) from kpi_values) as as_of,
        (select max(load_id) from file_loads) as max_load_id,
        (select count(*) from kpi_values) as kpi_rows

)

select * from final
