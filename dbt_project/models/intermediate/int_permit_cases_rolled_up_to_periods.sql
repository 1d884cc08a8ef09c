-- Government-service case KPIs, one row per period, one column per kpi_code, rolled up from
-- the cases summed by day (int_permit_cases_summed_by_day, which says which case counts on
-- which day): the days are summed over departments and intakes first, so the range join to
-- periods runs over days only. Ratios and averages divide sums over P; NULL without cases.
with

periods as (

    select * from {{ ref('int_periods') }}

),

case_days as (

    select * from {{ ref('int_permit_cases_summed_by_day') }}

),

by_day as (

    select
        activity_date,
        sum(cases_submitted) as cases_submitted,
        sum(cases_completed) as cases_completed,
        sum(trips) as trips,
        sum(online_cases) as online_cases,
        sum(cases_completed) filter (where intake = '一窗综办') as one_window_cases,
        sum(cases_completed) filter (where intake in ('跨省通办', '川渝通办', '五省通办'))
            as cross_region_cases,
        sum(timed_cases) as timed_cases,
        sum(on_time_cases) as on_time_cases,
        sum(rated_cases) as rated_cases,
        sum(satisfied_cases) as satisfied_cases
    from case_days
    group by all

),

by_period as (

    select
        periods.period_type,
        periods.period_start,
        sum(by_day.cases_submitted) as cases_submitted,
        sum(by_day.cases_completed) as cases_completed,
        sum(by_day.trips) as trips,
        sum(by_day.online_cases) as online_cases,
        sum(by_day.one_window_cases) as one_window_cases,
        sum(by_day.cross_region_cases) as cross_region_cases,
        sum(by_day.timed_cases) as timed_cases,
        sum(by_day.on_time_cases) as on_time_cases,
        sum(by_day.rated_cases) as rated_cases,
        sum(by_day.satisfied_cases) as satisfied_cases
    from periods
    inner join by_day
        on by_day.activity_date between periods.period_start and periods.cutoff_date
    group by all

),

final as (

    select
        periods.period_type,
        periods.period_start,
        cast(coalesce(p.cases_submitted, 0) as double) as cases_submitted,
        cast(coalesce(p.cases_completed, 0) as double) as cases_completed,
        cast(p.trips as double) / nullif(p.cases_completed, 0) as avg_trips_per_case,
        cast(p.online_cases as double) / nullif(p.cases_completed, 0) as online_case_rate,
        cast(coalesce(p.one_window_cases, 0) as double) as one_window_cases,
        cast(coalesce(p.cross_region_cases, 0) as double) as cross_region_cases,
        cast(p.on_time_cases as double) / nullif(p.timed_cases, 0) as on_time_rate,
        cast(p.satisfied_cases as double) / nullif(p.rated_cases, 0) as satisfaction_rate
    from periods
    left join by_period as p
        on periods.period_type = p.period_type and periods.period_start = p.period_start

)

select * from final
