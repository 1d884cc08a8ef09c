-- Government-service cases (current version of each) summed by day, 实施部门 department and
-- 受理方式 intake: the one place that says on which day a case counts for what. Both the
-- rollup to periods (kpi_values) and the breakdowns sum these rows, so that a file of millions
-- of cases is read once, and the period joins run over days, not cases.
-- A case counts as submitted on the date of submitted_at, whatever its status. "Completed in
-- P" is status 已办结 and completed_at in P: its completion measures count on the date of
-- completed_at. Its department is that of its service item in the current catalogue; a code
-- the catalogue lacks has none, shown as (未填).
with

cases as (

    select * from {{ ref('fct_permit_cases') }}

),

current_items as (

    select * from {{ ref('dim_service_items') }}
    where is_current

),

dimensioned as (

    select
        cast(cases.submitted_at as date) as submitted_date,
        case
            when cases.is_completed and cases.completed_at is not null
                then cast(cases.completed_at as date)
        end as completed_date,
        coalesce(current_items.department, '(未填)') as department,
        coalesce(cases.intake, '(未填)') as intake,
        cases.channel,
        cases.trips,
        cases.accepted_at,
        cases.is_on_time,
        cases.rating,
    from cases
    left join current_items
        on cases.item_code = current_items.item_code

),

submitted_by_day as (

    select
        submitted_date as activity_date,
        department,
        intake,
        count(*) as cases_submitted,
    from dimensioned
    group by all

),

completed_by_day as (

    select
        completed_date as activity_date,
        department,
        intake,
        count(*) as cases_completed,
        sum(trips) as trips,
        count(*) filter (where channel = '全程网办') as online_cases,
        count(*) filter (where accepted_at is not null) as timed_cases,
        count(*) filter (where accepted_at is not null and is_on_time) as on_time_cases,
        count(*) filter (where rating is not null) as rated_cases,
        count(*) filter (where rating in ('非常满意', '满意', '基本满意')) as satisfied_cases,
    from dimensioned
    where completed_date is not null
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
    from submitted_by_day
    full join completed_by_day
        using (activity_date, department, intake)

)

select * from final
