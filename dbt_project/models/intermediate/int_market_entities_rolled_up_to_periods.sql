-- Market-entity KPIs, one row per period, one column per kpi_code.
-- An entity (uscc) exists after its latest 设立/注销/吊销 event (by completed_at, then
-- event_id) iff that event is 设立. Each event changes the number of existing entities by
-- exists-after minus exists-before (+1, -1 or 0); summed by day and cumulated, these give the
-- total at the end of any day without joining events to periods.
with

periods as (

    select * from {{ ref('int_periods') }}

),

events as (

    select * from {{ ref('fct_market_entity_events') }}

),

-- 变更 (change) events do not bear on whether an entity exists.
life_events as (

    select
        uscc,
        completed_at,
        event_type = '设立' as exists_after,
        coalesce(
            lag(event_type = '设立') over (partition by uscc order by completed_at, event_id),
            false
        ) as existed_before,
    from events
    where event_type in ('设立', '注销', '吊销')

),

existence_change_by_day as (

    select
        cast(completed_at as date) as activity_date,
        sum(cast(exists_after as integer) - cast(existed_before as integer)) as entity_change,
    from life_events
    group by all

),

events_by_day as (

    select
        cast(completed_at as date) as activity_date,
        count(*) filter (where event_type = '设立') as entities_new,
        count(*) filter (where event_type in ('注销', '吊销')) as entities_exited,
        count(*) filter (where event_type = '设立' and entity_type = '企业')
            as enterprises_established,
        -- The contract: at most 2 hours, the boundary included.
        count(*) filter (
            where event_type = '设立' and entity_type = '企业'
                and completed_at <= submitted_at + interval 2 hour
        ) as enterprises_established_within_2h,
        count(*) filter (where event_type = '设立' and is_returnee) as returnee_entities_new,
    from events
    group by all

),

totals_by_period as (

    select
        periods.period_type,
        periods.period_start,
        sum(c.entity_change) filter (where c.activity_date <= periods.cutoff_date)
            as entities_total,
        -- The previous period of the same type ends the day before this one starts.
        sum(c.entity_change) filter (where c.activity_date < periods.period_start)
            as entities_total_before,
    from periods
    inner join existence_change_by_day as c
        on c.activity_date <= periods.cutoff_date
    group by all

),

flows_by_period as (

    select
        periods.period_type,
        periods.period_start,
        sum(d.entities_new) as entities_new,
        sum(d.entities_exited) as entities_exited,
        sum(d.enterprises_established) as enterprises_established,
        sum(d.enterprises_established_within_2h) as enterprises_established_within_2h,
        sum(d.returnee_entities_new) as returnee_entities_new,
    from periods
    inner join events_by_day as d
        on d.activity_date between periods.period_start and periods.cutoff_date
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
        cast(coalesce(f.returnee_entities_new, 0) as double) as returnee_entities_new,
    from periods
    left join totals_by_period as t
        on periods.period_type = t.period_type and periods.period_start = t.period_start
    left join flows_by_period as f
        on periods.period_type = f.period_type and periods.period_start = f.period_start

)

select * from final
