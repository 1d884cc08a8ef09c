-- One row per date of every year the official working-day calendar covers.
-- A date outside these years has no row: it is unknown, never silently a working day.
with

calendar_years as (

    select * from {{ ref('cn_calendar_years') }}

),

exception_days as (

    select * from {{ ref('cn_calendar_days') }}

),

covered_days as (

    select cast(d.calendar_date as date) as calendar_date
    from calendar_years as y
    cross join {{ series(
        "make_date(y.calendar_year, 1, 1)", "make_date(y.calendar_year, 12, 31)", "interval 1 day",
        'd', 'calendar_date'
    ) }}

),

classified as (

    select
        covered_days.calendar_date,
        cast({{ iso_day_of_week('covered_days.calendar_date') }} as integer) as day_of_week,
        {{ iso_day_of_week('covered_days.calendar_date') }} >= 6 as is_weekend,
        coalesce(exception_days.day_type = 'holiday', false) as is_public_holiday,
        coalesce(exception_days.day_type = 'workday', false) as is_make_up_workday,
        exception_days.holiday_name_zh
    from covered_days
    left join exception_days
        on covered_days.calendar_date = exception_days.calendar_date

),

final as (

    select
        calendar_date,
        day_of_week,
        '星期' || substr('一二三四五六日', day_of_week, 1) as day_name_zh,
        cast({{ iso_year('calendar_date') }} as integer) as iso_year,
        cast(weekofyear(calendar_date) as integer) as iso_week,
        cast(date_trunc('week', calendar_date) as date) as week_start_date,
        cast(date_trunc('month', calendar_date) as date) as month_start_date,
        cast(date_trunc('quarter', calendar_date) as date) as quarter_start_date,
        cast(date_trunc('year', calendar_date) as date) as year_start_date,
        is_weekend,
        is_public_holiday,
        is_make_up_workday,
        (not is_weekend and not is_public_holiday) or is_make_up_workday as is_working_day,
        holiday_name_zh,
        -- Working days up to and including this date: the n-th working day after D is the
        -- working day whose ordinal is ordinal(D) + n, whether or not D itself is one.
        cast(sum(case when (not is_weekend and not is_public_holiday) or is_make_up_workday
            then 1 else 0 end) over (order by calendar_date) as integer) as working_day_ordinal
    from classified

)

select * from final
