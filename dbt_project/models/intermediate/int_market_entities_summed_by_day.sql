-- Market-entity registration events (current version of each) summed by day and 乡镇街道
-- township: the one place that says when an entity exists, and in which township.
-- An entity (uscc) exists after an event iff its latest 设立/注销/吊销 event up to and including
-- that one (by completed_at, then event_id) is 设立; a 变更 changes nothing but may name
-- another township. It stands in the township its latest event names ((未填) when none).
-- Each event moves the entity out of the township it stood in before (-1 if it existed) and
-- into the one it stands in after (+1 if it exists): summed by day and cumulated, these give
-- the entities existing in each township at the end of any day, and over all townships the
-- same count as entities_total, without joining events to periods.
-- The flows (entities_new ...) count each event on the date of completed_at, in the township
-- the event itself names.
{#- One window, written out in each OVER: Spark cannot add a frame to a named window. #}
{%- set by_entity = 'partition by uscc order by completed_at, event_id' %}
with

events as (

    select * from {{ ref('fct_market_entity_events') }}

),

-- What an event says of existence: 设立 sets it, 注销 and 吊销 end it, 变更 says nothing.
events_with_existence as (

    select
        *,
        case event_type
            when '设立' then true
            when '注销' then false
            when '吊销' then false
        end as sets_existence_to,
        coalesce(township, '(未填)') as township_named
    from events

),

states as (

    select
        uscc,
        event_type,
        entity_type,
        is_returnee,
        submitted_at,
        completed_at,
        cast(completed_at as date) as activity_date,
        township_named as township,
        coalesce(
            {{ last_value_ignore_nulls('sets_existence_to') }}
                over ({{ by_entity }} rows between unbounded preceding and current row),
            false
        ) as exists_after,
        coalesce(
            {{ last_value_ignore_nulls('sets_existence_to') }}
                over ({{ by_entity }} rows between unbounded preceding and 1 preceding),
            false
        ) as existed_before,
        lag(township_named) over ({{ by_entity }}) as township_before
    from events_with_existence

),

moves_by_day as (

    select
        activity_date,
        township,
        sum(change) as entity_change
    from (
        select activity_date, township, 1 as change
        from states
        where exists_after
        union all
        select activity_date, township_before, -1
        from states
        where existed_before
    )
    group by all

),

events_by_day as (

    select
        activity_date,
        township,
        count(*) filter (where event_type = '设立') as entities_new,
        count(*) filter (where event_type in ('注销', '吊销')) as entities_exited,
        count(*) filter (where event_type = '设立' and entity_type = '企业')
            as enterprises_established,
        -- The contract: at most 2 hours, the boundary included.
        count(*) filter (
            where event_type = '设立' and entity_type = '企业'
                and completed_at <= submitted_at + interval 2 hour
        ) as enterprises_established_within_2h,
        count(*) filter (where event_type = '设立' and is_returnee) as returnee_entities_new
    from states
    group by all

),

final as (

    select
        activity_date,
        township,
        coalesce(moves_by_day.entity_change, 0) as entity_change,
        coalesce(events_by_day.entities_new, 0) as entities_new,
        coalesce(events_by_day.entities_exited, 0) as entities_exited,
        coalesce(events_by_day.enterprises_established, 0) as enterprises_established,
        coalesce(events_by_day.enterprises_established_within_2h, 0)
            as enterprises_established_within_2h,
        coalesce(events_by_day.returnee_entities_new, 0) as returnee_entities_new
    from events_by_day
    full join moves_by_day
        using (activity_date, township)

)

select * from final
