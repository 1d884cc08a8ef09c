-- The covered years must have no gap: a missing year would leave dates between known years
-- unknown. Also every exception day must lie in a covered year or in the December before the
-- year whose notice set it. Returns the offending years or days.
with

calendar_years as (

    select * from {{ ref('cn_calendar_years') }}

),

exception_days as (

    select * from {{ ref('cn_calendar_days') }}

),

gaps as (

    select
        calendar_year + 1 as calendar_year,
        'year missing between covered years' as problem
    from calendar_years
    where calendar_year + 1 not in (select calendar_year from calendar_years)
        and calendar_year < (select max(calendar_year) from calendar_years)

),

stray_days as (

    select
        notice_year as calendar_year,
        'exception day ' || {{ format_datetime('calendar_date', '%Y-%m-%d') }} || ' outside its notice year'
            as problem
    from exception_days
    where year(calendar_date) <> notice_year
        and not (year(calendar_date) = notice_year - 1 and month(calendar_date) = 12)

)

select * from gaps
union all
select * from stray_days
