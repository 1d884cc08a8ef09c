-- Spot check of the calendar against 国务院办公厅关于2022年部分节假日安排的通知: National Day
-- 2022-10-01..07 off, Saturday 10-08 and Sunday 10-09 working; an ordinary weekend off; and
-- ordinals counting working days only. Returns the dates that disagree.
with

dates as (

    select * from {{ ref('dim_dates') }}

),

expected as (

    select * from (values
        (date '2022-09-30', true),
        (date '2022-10-01', false),
        (date '2022-10-03', false),
        (date '2022-10-07', false),
        (date '2022-10-08', true),
        (date '2022-10-09', true),
        (date '2022-10-10', true),
        (date '2022-10-15', false),
        (date '2022-10-16', false)
    ) as t (calendar_date, is_working_day)

),

wrong_days as (

    select expected.calendar_date, 'is_working_day' as problem
    from expected
    left join dates on expected.calendar_date = dates.calendar_date
    where dates.is_working_day is distinct from expected.is_working_day

),

wrong_ordinals as (

    -- 09-30 is followed by the working days 10-08, 10-09, 10-10.
    select date '2022-10-10' as calendar_date, 'working_day_ordinal' as problem
    where (select working_day_ordinal from dates where calendar_date = date '2022-10-10')
        - (select working_day_ordinal from dates where calendar_date = date '2022-09-30') <> 3

)

select * from wrong_days
union all
select * from wrong_ordinals
