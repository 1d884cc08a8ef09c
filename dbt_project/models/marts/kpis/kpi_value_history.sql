-- Every value kpi_values has reported, appended (incremental, never rebuilt): each build
-- adds the rows of kpi_values that are new or whose value changed since the last one
-- recorded for that (kpi_code, period_type, period_start), with the build that saw it.
-- A full refresh, or a replay into a fresh warehouse, starts the history again.
{{ config(materialized='incremental', on_schema_change='append_new_columns') }}
with

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

this_build as (

    select * from {{ ref('kpi_builds') }}
    where build_id = '{{ invocation_id }}'

),

{% if is_incremental() %}
last_recorded as (

    select * from {{ this }}
    qualify row_number() over (
        partition by kpi_code, period_type, period_start order by built_at desc, build_id desc
    ) = 1

),
{% endif %}

changed as (

    select kpi_values.*
    from kpi_values
    {% if is_incremental() %}
    left join last_recorded
        on kpi_values.kpi_code = last_recorded.kpi_code
        and kpi_values.period_type = last_recorded.period_type
        and kpi_values.period_start = last_recorded.period_start
    where last_recorded.kpi_code is null
        or {{ kpi_value_changed('kpi_values.value', 'last_recorded.value') }}
    {% endif %}

),

final as (

    select
        changed.kpi_code,
        changed.period_type,
        changed.period_start,
        changed.period_end,
        changed.value,
        changed.as_of,
        this_build.build_id,
        this_build.built_at,
        this_build.max_load_id
    from changed
    cross join this_build

)

select * from final
