-- Late corrections of reported figures: one row per (kpi, period) value that changed in a
-- build although the period had already ended when the build before it reported the old
-- value, with the files of the KPI's source loaded between those two builds.
with

history as (

    select * from {{ ref('kpi_value_history') }}

),

builds as (

    select * from {{ ref('kpi_builds') }}

),

kpi_definitions as (

    select * from {{ ref('kpi_definitions') }}

),

file_loads as (

    select * from {{ source('audit', 'file_loads') }}

),

-- The build before each build: the last one that still reported a value that changed.
builds_with_previous as (

    select
        build_id,
        built_at,
        as_of,
        max_load_id,
        lag(as_of) over by_time as previous_as_of,
        lag(max_load_id) over by_time as previous_max_load_id
    from builds
    window by_time as (order by built_at, build_id)

),

-- The history holds a row only when a value is new or changed: each row after the first of
-- its (kpi, period) is a change.
changes as (

    select
        *,
        lag(value) over by_period as old_value,
        lag(build_id) over by_period as old_build_id
    from history
    window by_period as (
        partition by kpi_code, period_type, period_start order by built_at, build_id
    )

),

revisions as (

    select
        changes.kpi_code,
        changes.period_type,
        changes.period_start,
        changes.period_end,
        changes.old_value,
        changes.value as new_value,
        builds_with_previous.previous_as_of as old_as_of,
        changes.as_of as new_as_of,
        changes.built_at as revised_at,
        builds_with_previous.previous_max_load_id,
        builds_with_previous.max_load_id
    from changes
    inner join builds_with_previous
        on changes.build_id = builds_with_previous.build_id
    where changes.old_build_id is not null
        -- Closed when reported, and still closed: a period that ended after the old as-of
        -- date was still running; one that ends after the new as-of date (a rebuild for an
        -- earlier as-of date) is cut short, not revised.
        and changes.period_end < builds_with_previous.previous_as_of
        and changes.period_end < changes.as_of

),

causes as (

    select
        revisions.kpi_code,
        revisions.period_type,
        revisions.period_start,
        revisions.revised_at,
        {{ string_agg_ordered('file_loads.file_name', "', '", 'file_loads.load_id') }}
            as caused_by_files,
        {{ string_agg_ordered(
            'cast(file_loads.load_id as string)', "', '", 'file_loads.load_id'
        ) }} as caused_by_load_ids
    from revisions
    inner join kpi_definitions
        on revisions.kpi_code = kpi_definitions.kpi_code
    inner join file_loads
        on file_loads.source = kpi_definitions.domain
        and file_loads.status = 'loaded'
        and file_loads.load_id > coalesce(revisions.previous_max_load_id, 0)
        and file_loads.load_id <= revisions.max_load_id
    group by all

),

final as (

    select
        revisions.kpi_code,
        kpi_definitions.kpi_name_zh,
        revisions.period_type,
        revisions.period_start,
        revisions.period_end,
        revisions.old_value,
        revisions.new_value,
        revisions.old_as_of,
        revisions.new_as_of,
        revisions.revised_at,
        causes.caused_by_files,
        causes.caused_by_load_ids,
        kpi_definitions.unit,
        kpi_definitions.domain,
        revisions.new_value - revisions.old_value as value_change
    from revisions
    inner join kpi_definitions
        on revisions.kpi_code = kpi_definitions.kpi_code
    left join causes
        on revisions.kpi_code = causes.kpi_code
        and revisions.period_type = causes.period_type
        and revisions.period_start = causes.period_start
        and revisions.revised_at = causes.revised_at

)

select * from final
