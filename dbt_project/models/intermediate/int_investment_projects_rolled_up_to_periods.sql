-- Investment-project KPIs, one row per period, one column per kpi_code, rolled up from the
-- milestones summed by day (int_investment_projects_summed_by_day, which says which date marks
-- a signing, a start, a production, a lead or a talk): the days are summed over teams and
-- clusters first, then into periods.
-- Cadence (coverage) KPIs count weeks, months and quarters that start within P and on or
-- before the as-of date; the milestone itself may fall on any day of that week/month/quarter.
with

periods as (

    select * from {{ ref('int_periods') }}

),

project_days as (

    select * from {{ ref('int_investment_projects_summed_by_day') }}

),

by_day as (

    select
        activity_date,
        sum(leads) as leads,
        sum(first_talks) as first_talks,
        sum(projects_signed) as projects_signed,
        sum(contract_investment_signed) as contract_investment_signed,
        sum(industrial_projects_signed) as industrial_projects_signed,
        sum(industrial_investment_signed) as industrial_investment_signed,
        sum(industrial_investment_on_land) as industrial_investment_on_land,
        sum(industrial_land_mu) as industrial_land_mu,
        sum(industrial_projects_on_land) as industrial_projects_on_land,
        sum(projects_started) as projects_started,
        sum(industrial_projects_started) as industrial_projects_started,
        sum(projects_in_production) as projects_in_production
    from project_days
    group by all

),

flows_by_period as (

    select
        periods.period_type,
        periods.period_start,
        sum(d.projects_signed) as projects_signed,
        sum(d.contract_investment_signed) as contract_investment_signed,
        sum(d.industrial_projects_signed) as industrial_projects_signed,
        sum(d.industrial_investment_signed) as industrial_investment_signed,
        sum(d.industrial_investment_on_land) as industrial_investment_on_land,
        sum(d.industrial_land_mu) as industrial_land_mu,
        sum(d.industrial_projects_on_land) as industrial_projects_on_land,
        sum(d.projects_started) as projects_started,
        sum(d.industrial_projects_started) as industrial_projects_started,
        sum(d.projects_in_production) as projects_in_production
    from periods
    inner join by_day as d
        on d.activity_date between periods.period_start and periods.cutoff_date
    group by all

),

lead_weeks as (

    select distinct cast(date_trunc('week', activity_date) as date) as week_start_date
    from by_day
    where leads > 0

),

talk_months as (

    select distinct cast(date_trunc('month', activity_date) as date) as month_start_date
    from by_day
    where first_talks > 0

),

signed_quarters as (

    select distinct cast(date_trunc('quarter', activity_date) as date) as quarter_start_date
    from by_day
    where projects_signed > 0

),

started_quarters as (

    select distinct cast(date_trunc('quarter', activity_date) as date) as quarter_start_date
    from by_day
    where projects_started > 0

),

-- ISO weeks whose Monday lies in [period_start, cutoff_date].
period_weeks as (

    select
        periods.period_type,
        periods.period_start,
        cast(w.week_start_date as date) as week_start_date
    from periods
    cross join {{ series(
        "cast(date_trunc('week', periods.period_start + 6) as timestamp)",
        "cast(periods.cutoff_date as timestamp)",
        "interval 7 day",
        'w', 'week_start_date'
    ) }}

),

-- Calendar months whose first day lies in [period_start, cutoff_date].
period_months as (

    select
        periods.period_type,
        periods.period_start,
        cast(m.month_start_date as date) as month_start_date
    from periods
    cross join {{ series(
        "cast(periods.period_start as timestamp)",
        "cast(periods.cutoff_date as timestamp)",
        "interval 1 month",
        'm', 'month_start_date'
    ) }}
    where cast(m.month_start_date as date) = date_trunc('month', m.month_start_date)

),

-- Calendar quarters lying wholly within P's nominal bounds and starting on or before the
-- as-of date (so none for a month).
period_quarters as (

    select
        periods.period_type,
        periods.period_start,
        cast(q.quarter_start_date as date) as quarter_start_date
    from periods
    cross join {{ series(
        "cast(periods.period_start as timestamp)",
        "cast(periods.cutoff_date as timestamp)",
        "interval 1 month",
        'q', 'quarter_start_date'
    ) }}
    where cast(q.quarter_start_date as date) = date_trunc('quarter', q.quarter_start_date)
        and q.quarter_start_date + interval 3 month - interval 1 day <= periods.period_end

),

week_coverage as (

    select
        period_weeks.period_type,
        period_weeks.period_start,
        count(*) as weeks,
        count(lead_weeks.week_start_date) as weeks_with_lead
    from period_weeks
    left join lead_weeks
        on period_weeks.week_start_date = lead_weeks.week_start_date
    group by all

),

month_coverage as (

    select
        period_months.period_type,
        period_months.period_start,
        count(*) as months,
        count(talk_months.month_start_date) as months_with_talk
    from period_months
    left join talk_months
        on period_months.month_start_date = talk_months.month_start_date
    group by all

),

quarter_coverage as (

    select
        period_quarters.period_type,
        period_quarters.period_start,
        count(*) as quarters,
        count(*) filter (
            where signed_quarters.quarter_start_date is not null
                and started_quarters.quarter_start_date is not null
        ) as quarters_with_sign_and_start
    from period_quarters
    left join signed_quarters
        on period_quarters.quarter_start_date = signed_quarters.quarter_start_date
    left join started_quarters
        on period_quarters.quarter_start_date = started_quarters.quarter_start_date
    group by all

),

final as (

    select
        periods.period_type,
        periods.period_start,
        cast(coalesce(s.projects_signed, 0) as double) as projects_signed,
        cast(coalesce(s.contract_investment_signed, 0) as double) as contract_investment_signed,
        cast(coalesce(s.industrial_projects_signed, 0) as double) as industrial_projects_signed,
        cast(coalesce(s.industrial_investment_signed, 0) as double)
            as industrial_investment_signed,
        cast(coalesce(s.projects_started, 0) as double) as projects_started,
        cast(coalesce(s.industrial_projects_started, 0) as double)
            as industrial_projects_started,
        cast(coalesce(s.projects_in_production, 0) as double) as projects_in_production,
        cast(wc.weeks_with_lead as double) / nullif(wc.weeks, 0) as lead_week_coverage,
        cast(mc.months_with_talk as double) / nullif(mc.months, 0) as talk_month_coverage,
        cast(qc.quarters_with_sign_and_start as double) / nullif(qc.quarters, 0)
            as sign_start_quarter_coverage,
        case
            when s.industrial_projects_on_land > 0
                then cast(s.industrial_investment_on_land as double) * 10000
                    / cast(s.industrial_land_mu as double)
        end as investment_per_mu
    from periods
    left join flows_by_period as s
        on periods.period_type = s.period_type and periods.period_start = s.period_start
    left join week_coverage as wc
        on periods.period_type = wc.period_type and periods.period_start = wc.period_start
    left join month_coverage as mc
        on periods.period_type = mc.period_type and periods.period_start = mc.period_start
    left join quarter_coverage as qc
        on periods.period_type = qc.period_type and periods.period_start = qc.period_start

)

select * from final
