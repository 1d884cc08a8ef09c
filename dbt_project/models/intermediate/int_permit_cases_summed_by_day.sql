-- Government-service cases (current version of each) summed by day, 实施部门 department and
-- 受理方式 intake: the one place that says on which day a case counts for what. Both the
-- rollup to periods (kpi_values) and the breakdowns sum these rows, so that a file of millions
-- of cases is read once, and the period joins run over days, not cases.
-- A case counts as submitted on the date of submitted_at, whatever its status. "Completed in
-- P" is status 已办结 and completed_at in P: its completion measures count on the date of
-- completed_at. Its department is that of its service item in the current catalogue; a code
-- the catalogue lacks has none, shown as (未填).
--
-- Incremental, so that a day's files do not re-sum fifty million cases: a build re-sums only
-- the days a case changed on since the last build (the old and the new dates of every case
-- fct_permit_cases has reworked since, read from all the case's loaded versions), and every
-- day when the current catalogue's departments have changed. Each such day is replaced whole:
-- a row per day marks it (department null) so that a day left with no cases is emptied too,
-- and the post-hook removes those marks. A full refresh sums every case. On Spark, whose
-- Parquet tables take no DELETE, the replacing and the removing rewrite the table
-- (macros/spark/dbt_spark_get_incremental_sql.sql, macros/delete_where.sql).
{{ config(
    materialized='incremental',
    unique_key='activity_date',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    post_hook="{{ delete_where(this, 'department is null') }}",
) }}
-- The versions are read only in an incremental build: depends_on: {{ ref('stg_permit_cases__case_versions') }}
{#- The cases are named in each CTE that reads them, not imported once: DuckDB materialises a
    CTE that is read more than once, which here would copy every case before filtering. #}
{%- set cases = ref('fct_permit_cases') %}
with

current_items as (

    select * from {{ ref('dim_service_items') }}
    where is_current

),

-- The departments every case is summed under: a checksum of the current catalogue's.
catalogue as (

    select
        coalesce(left(md5({{ string_agg_ordered(
            "item_code || '=' || coalesce(department, '')", "','", 'item_code'
        ) }}), 12), '') as departments_version
    from current_items

),

{% if is_incremental() %}
{#- A table summed before _cases_built_at existed is summed again whole, once. In a unit test
    `this` is the name of a fixture, not a relation to look into. -#}
{%- set stamped = this is string or '_cases_built_at' in (
    adapter.get_columns_in_relation(this) | map(attribute='name') | list
) %}
built as (

    {% if stamped -%}
    select
        max(_cases_built_at) as cases_built_at,
        max(departments_version) as departments_version
    from {{ this }}
    {%- else -%}
    select
        cast(null as timestamp) as cases_built_at,
        cast(null as string) as departments_version
    {%- endif %}

),

-- Every day is summed again when the departments changed (or the table is not stamped).
resum_all as (

    select
        (select cases_built_at from built) is null
        or (select departments_version from built)
        is distinct from (select departments_version from catalogue) as resum_all

),

reworked_cases as (

    select case_id from {{ cases }}
    where _built_at > (select cases_built_at from built)
        and not (select resum_all from resum_all)

),

reworked_versions as (

    select submitted_at, completed_at
    from {{ ref('stg_permit_cases__case_versions') }}
    where case_id in (select case_id from reworked_cases)

),

-- Every date a reworked case counts on now or counted on before: the dates of all its
-- versions (the one it was summed with is among them).
changed_dates as (

    select cast(submitted_at as date) as activity_date from reworked_versions
    union
    select cast(completed_at as date) from reworked_versions
    union
    select activity_date from {{ this }}
    where (select resum_all from resum_all)
    union
    select submitted_date from {{ cases }}
    where (select resum_all from resum_all)
    union
    select completed_date from {{ cases }}
    where (select resum_all from resum_all)

),
{% endif %}

-- The cases each sum reads: in an incremental build only those counted on a day summed again,
-- each found by a stored date column of fct_permit_cases (kept in submission order), so that
-- it reads the row groups of those days only.
submitted_cases as (

    select * from {{ cases }}
    {% if is_incremental() -%}
    where submitted_date in (select activity_date from changed_dates)
    {%- endif %}

),

completed_cases as (

    select * from {{ cases }}
    where is_completed and completed_at is not null
    {% if is_incremental() -%}
    and completed_date in (select activity_date from changed_dates)
    {%- endif %}

),

{% for counted in ['submitted', 'completed'] %}
{{ counted }}_dimensioned as (

    select
        cast(c.{{ counted }}_at as date) as activity_date,
        coalesce(current_items.department, '(未填)') as department,
        coalesce(c.intake, '(未填)') as intake,
        c.channel,
        c.trips,
        c.accepted_at,
        c.is_on_time,
        c.rating
    from {{ counted }}_cases as c
    left join current_items
        on c.item_code = current_items.item_code

),

{% endfor %}
submitted_by_day as (

    select
        activity_date,
        department,
        intake,
        count(*) as cases_submitted
    from submitted_dimensioned
    group by all

),

completed_by_day as (

    select
        activity_date,
        department,
        intake,
        count(*) as cases_completed,
        sum(trips) as trips,
        count(*) filter (where channel = '全程网办') as online_cases,
        count(*) filter (where accepted_at is not null) as timed_cases,
        count(*) filter (where accepted_at is not null and is_on_time) as on_time_cases,
        count(*) filter (where rating is not null) as rated_cases,
        count(*) filter (where rating in ('非常满意', '满意', '基本满意')) as satisfied_cases
    from completed_dimensioned
    group by all

),

final as (

    select
        activity_date,
        department,
        intake,
        coalesce(submitted_by_day.cases_submitted, 0) as cases_submitted,
        coalesce(completed_by_day.cases_completed, 0) as cases_completed,
        coalesce(completed_by_day.trips, 0) as trips,
        coalesce(completed_by_day.online_cases, 0) as online_cases,
        coalesce(completed_by_day.timed_cases, 0) as timed_cases,
        coalesce(completed_by_day.on_time_cases, 0) as on_time_cases,
        coalesce(completed_by_day.rated_cases, 0) as rated_cases,
        coalesce(completed_by_day.satisfied_cases, 0) as satisfied_cases,
        (select departments_version from catalogue) as departments_version,
        (select max(_built_at) from {{ cases }}) as _cases_built_at
    from submitted_by_day
    full join completed_by_day
        using (activity_date, department, intake)
    {% if is_incremental() %}
    union all
    -- One mark per replaced day (removed by the post-hook).
    select
        activity_date,
        null as department,
        null as intake,
        null as cases_submitted,
        null as cases_completed,
        null as trips,
        null as online_cases,
        null as timed_cases,
        null as on_time_cases,
        null as rated_cases,
        null as satisfied_cases,
        (select departments_version from catalogue) as departments_version,
        (select max(_built_at) from {{ cases }}) as _cases_built_at
    from changed_dates
    where activity_date is not null
    {% endif %}

)

select * from final
