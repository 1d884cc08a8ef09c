-- Government-service case KPIs, one row per period, one column per kpi_code.
-- Cases are summed by day first, so the range join to periods runs over days, not cases.
with

periods as (

    select * from {{ ref('int_periods') }}

),

cases as (

    select * from {{ ref('fct_permit_cases') }}

),

submitted_by_day as (

    select
        cast(submitted_at as date) as activity_date,
        count(*) as cases_submitted,
    from cases
    group by all

),

-- "Completed in P": status 已办结 and completed_at in P.
completed_by_day as (

    select
        cast(completed_at as date) as activity_date,
        count(*) as cases_completed,
        sum(trips) as trips,
        count(*) filter (where channel = '全程网办') as online_cases,
        count(*) filter (where intake = '一窗综办') as one_window_cases,
        count(*) filter (where intake in ('跨省通办', '川渝通办', '五省通办'))
            as cross_region_cases,
        count(*) filter (where accepted_at is not null) as timed_cases,
        count(*) filter (where accepted_at is not null and is_on_time) as on_time_cases,
        count(*) filter (where rating is not null) as rated_cases,
        count(*) filter (where rating in ('非常满意', '满意', '基本满意')) as satisfied_cases,
    from cases
    where is_completed and completed_at is not null
    group by all

),

submitted_by_period as (

    select
        periods.period_type,
        periods.period_start,
        sum(submitted_by_day.cases_submitted) as cases_submitted,
    from periods
    inner join submitted_by_day
        on submitted_by_day.activity_date between periods.period_start and periods.cutoff_date
    group by all

),

completed_by_period as (

    select
        periods.period_type,
        periods.period_start,
        sum(d.cases_completed) as cases_completed,
        sum(d.trips) as trips,
        sum(d.online_cases) as online_cases,
        sum(d.one_window_cases) as one_window_cases,
        sum(d.cross_region_cases) as cross_region_cases,
        sum(d.timed_cases) as timed_cases,
        sum(d.on_time_cases) as on_time_cases,
        sum(d.rated_cases) as rated_cases,
        sum(d.satisfied_cases) as satisfied_cases,
    from periods
    inner join completed_by_day as d
        on d.activity_date between periods.period_start and periods.cutoff_date
    group by all

),

final as (

    select
        periods.period_type,
        periods.period_start,
        cast(coalesce(s.cases_submitted, 0) as double) as cases_submitted,
        cast(coalesce(c.cases_completed, 0) as double) as cases_completed,
        cast(c.trips as double) / nullif(c.cases_completed, 0) as avg_trips_per_case,
        cast(c.online_cases as double) / nullif(c.cases_completed, 0) as online_case_rate,
        cast(coalesce(c.one_window_cases, 0) as double) as one_window_cases,
        cast(coalesce(c.cross_region_cases, 0) as double) as cross_region_cases,
        cast(c.on_time_cases as double) / nullif(c.timed_cases, 0) as on_time_rate,
        cast(c.satisfied_cases as double) / nullif(c.rated_cases, 0) as satisfaction_rate,
    from periods
    left join submitted_by_period as s
        on periods.period_type = s.period_type and periods.period_start = s.period_start
    left join completed_by_period as c
        on periods.period_type = c.period_type and periods.period_start = c.period_start

)

select * from final
