-- One row per government-service case, its current version, with its working-day deadline.
--
-- Incremental, so that a file of new cases does not rebuild millions of old ones: a build
-- re-derives only the cases with a version loaded since the last build (raw.permit_cases only
-- grows and _load_id rises with every load), and every case when the working-day calendar
-- has changed since its deadline was reckoned (deadline_calendar). A stored row is a copy of
-- its case's current version among the versions loaded before, so the current version now is
-- picked (keep_current_version, as in the staging views) between the stored row and the
-- versions loaded since: no build reads the case's older versions again, nor ranks every case
-- as stg_permit_cases__cases would. A full refresh builds it whole from every version.
-- On Spark, delete+insert rewrites the Parquet table
-- (macros/spark/dbt_spark_get_incremental_sql.sql).
{{ config(
    materialized='incremental',
    unique_key='case_id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
{#- A table built before deadline_calendar existed is reworked whole, once. In a unit test
    `this` is the name of a fixture, not a relation to look into. -#}
{%- set rework_changed_only = is_incremental() and (this is string or 'deadline_calendar' in (
    adapter.get_columns_in_relation(this) | map(attribute='name') | list
)) %}
with

versions as (

    select * from {{ ref('stg_permit_cases__case_versions') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

working_days as (

    select calendar_date, working_day_ordinal from dates where is_working_day

),

coverage as (

    select
        max(calendar_date) as last_covered_date,
        -- The calendar a deadline is reckoned on: its span and a checksum of its working days.
        {{ format_datetime('min(calendar_date)', '%Y%m%d') }} || '-'
        || {{ format_datetime('max(calendar_date)', '%Y%m%d') }}
        || '-' || left(md5({{ string_agg_ordered(
            format_datetime('calendar_date', '%Y%m%d') ~ " || if(is_working_day, 'W', 'R')",
            "''",
            'calendar_date'
        ) }}), 12) as deadline_calendar
    from dates

),

{% if rework_changed_only %}
{%- set version_columns = [
    'case_id', 'item_code', 'channel', 'intake', 'applicant_type', 'applicant_id_hash',
    'applicant_id_masked', 'status', 'trips', 'promised_days', 'rating', 'submitted_at',
    'accepted_at', 'completed_at', 'updated_at', '_load_id', '_file_name', '_row_number',
] %}
new_versions as (

    select {{ version_columns | join(', ') }} from versions
    where _load_id > (select coalesce(max(_load_id), 0) from {{ this }})

),

-- The stored rows of the cases to rework: those with a new version, and every case reckoned
-- on another calendar (a case in both comes twice, as the same row: one is kept). Two
-- filters, not one with `or`: each reads only the row groups it needs.
stored_versions as (

    select {{ version_columns | join(', ') }} from {{ this }}
    where case_id in (select case_id from new_versions)
    union all
    select {{ version_columns | join(', ') }} from {{ this }}
    where deadline_calendar is distinct from (select deadline_calendar from coverage)

),
{% endif %}

cases as (

    {% if rework_changed_only -%}
    select * from (
        select * from new_versions
        union all
        select * from stored_versions
    )
    {%- else -%}
    select * from versions
    {%- endif %}
    {{ keep_current_version('case_id') }}

),

dated as (

    select
        cases.*,
        cast(cases.submitted_at as date) as submitted_date,
        cast(cases.accepted_at as date) as accepted_date,
        cast(cases.completed_at as date) as completed_date,
        accepted_day.working_day_ordinal as accepted_ordinal
    from cases
    left join dates as accepted_day
        on cast(cases.accepted_at as date) = accepted_day.calendar_date

),

with_deadline as (

    select
        dated.*,
        case
            when dated.accepted_at is null then null
            -- The contract: 0 promised working days means the same date.
            when dated.promised_days = 0 then dated.accepted_date
            when due_day.calendar_date is not null then due_day.calendar_date
            -- An open case's deadline past the calendar is not needed by any KPI yet: it stays
            -- unknown until the next year's notice is added. A completed one is judged on it.
            when dated.status <> '已办结' then null
            when dated.accepted_ordinal is null
                then {{ calendar_not_covered('dated.case_id', 'dated.accepted_date') }}
            else {{ calendar_not_covered(
                    'dated.case_id', 'dated.accepted_date',
                    'dated.promised_days', 'coverage.last_covered_date'
                ) }}
        end as deadline_date,
        coverage.deadline_calendar
    from dated
    cross join coverage
    left join working_days as due_day
        on dated.accepted_ordinal + dated.promised_days = due_day.working_day_ordinal

),

final as (

    select
        case_id,
        item_code,
        channel,
        intake,
        applicant_type,
        applicant_id_hash,
        applicant_id_masked,
        status,
        status = '已办结' as is_completed,
        trips,
        promised_days,
        rating,
        submitted_at,
        accepted_at,
        completed_at,
        submitted_date,
        accepted_date,
        completed_date,
        cast(deadline_date as date) as deadline_date,
        case
            when status = '已办结' and accepted_at is not null
                then completed_date <= deadline_date
        end as is_on_time,
        deadline_calendar,
        updated_at,
        _load_id,
        _file_name,
        _row_number,
        -- Which build wrote the row: the serving copy replaces only the rows stamped since.
        {{ local_run_started_at() }} as _built_at
    from with_deadline

)

select * from final
-- Stored in submission order: a case id begins with its submission date, and the days a build
-- re-sums (int_permit_cases_summed_by_day) are recent ones, so their filters read a few row
-- groups instead of every one.
order by submitted_date, case_id
