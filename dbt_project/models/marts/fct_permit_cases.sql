-- One row per government-service case, its current version, with its working-day deadline.
with

cases as (

    select * from {{ ref('stg_permit_cases__cases') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

working_days as (

    select calendar_date, working_day_ordinal from dates where is_working_day

),

coverage as (

    select max(calendar_date) as last_covered_date from dates

),

dated as (

    select
        cases.*,
        cast(cases.submitted_at as date) as submitted_date,
        cast(cases.accepted_at as date) as accepted_date,
        cast(cases.completed_at as date) as completed_date,
        accepted_day.working_day_ordinal as accepted_ordinal,
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
        updated_at,
        _load_id,
        _file_name,
        _row_number,
    from with_deadline

)

select * from final
