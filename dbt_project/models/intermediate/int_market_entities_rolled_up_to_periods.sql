-- Market-entity KPIs, one row per period, one column per kpi_code, rolled up from the events
-- summed by day (int_market_entities_summed_by_day, which says when an entity exists): the
-- days are summed over townships first. entities_total at the end of P is the sum of every
-- day's change in existing entities up to the cutoff date; the flows sum the days of P.
with

periods as (

    select * from {{ ref('int_periods') }}

),

entity_days as (

    select * from {{ ref('int_market_entities_summed_by_day') }}

),

by_day as (

    select
        activity_date,
        sum(entity_change) as entity_change,
        sum(entities_new) as entities_new,
        sum(entities_exited) as entities_exited,
        sum(enterprises_established) as enterprises_established,
        sum(enterprises_established_within_2h) as enterprises_established_within_2h,
        sum(returnee_entities_new) as returnee_entities_new
    from entity_days
    group by all

),

totals_by_period as (

    select
        periods.period_type,
        periods.period_start,
        sum(by_day.entity_change) filter (where by_day.activity_date <= periods.cutoff_date)
            as entities_total,
        -- The previous period of the same type ends the day before this one starts.
        sum(by_day.entity_change) filter (where by_day.activity_date < periods.period_start)
            as entities_total_before
    from periods
    inner join by_day
        on by_day.activity_date <= periods.cutoff_date
    group by all

),

flows_by_period as (

    select
        periods.period_type,
        periods.period_start,
        sum(by_day.entities_new) as entities_new,
        sum(by_day.entities_exited) as entities_exited,
        sum(by_day.enterprises_established) as enterprises_established,
        sum(by_day.enterprises_established_within_2h) as enterprises_established_within_2h,
        sum(by_day.returnee_entities_new) as returnee_entities_new
    from periods
    inner join by_day
        on by_day.activity_date between periods.period_start and periods.cutoff_date
    group by all

),

final as (

    select
        periods.period_type,
        periods.period_start,
        cast(coalesce(t.entities_total, 0) as double) as entities_total,
        cast(coalesce(f.entities_new, 0) as double) as entities_new,
        cast(coalesce(f.entities_exited, 0) as double) as entities_exited,
        cast(t.entities_total as double) / nullif(t.entities_total_before, 0) - 1
            as entities_net_growth_rate,
        cast(f.enterprises_established_within_2h as double)
            / nullif(f.enterprises_established, 0) as enterprise_registration_2h_rate,
        cast(coalesce(f.returnee_entities_new, 0) as double) as returnee_entities_new
    from periods
    left join totals_by_period as t
        on periods.period_type = t.period_type and periods.period_start = t.period_start
    left join flows_by_period as f
        on periods.period_type = f.period_type and periods.period_start = f.period_start

)

select * from final
