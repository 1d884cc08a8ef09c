-- Every deadline needs the working-day calendar from the accepted date up to the deadline.
-- A case accepted on a date the calendar does not cover, or whose deadline runs past its
-- last covered date, is returned: extend seeds cn_calendar_years/cn_calendar_days.
with

cases as (

    select * from {{ ref('stg_permit_cases__cases') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

coverage as (

    select
        max(calendar_date) as last_covered_date,
        max(working_day_ordinal) as last_working_day_ordinal
    from dates

),

accepted as (

    select
        cases.case_id,
        cast(cases.accepted_at as date) as accepted_date,
        cases.promised_days,
        dates.working_day_ordinal as accepted_ordinal
    from cases
    left join dates
        on cast(cases.accepted_at as date) = dates.calendar_date
    where cases.accepted_at is not null

)

select
    accepted.case_id,
    accepted.accepted_date,
    accepted.promised_days,
    coverage.last_covered_date,
    case
        when accepted.accepted_ordinal is null then 'accepted date not covered'
        else 'deadline past the last covered date'
    end as problem
from accepted
cross join coverage
where accepted.accepted_ordinal is null
    or accepted.accepted_ordinal + accepted.promised_days > coverage.last_working_day_ordinal
