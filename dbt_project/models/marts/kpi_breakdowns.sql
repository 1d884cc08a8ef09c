-- KPIs split by a dimension leaders ask about, one row per (kpi_code, period, dimension,
-- dimension value), for the periods of kpi_values and every value the dimension takes in the
-- data (0, or NULL for a ratio, where a value has nothing in P). Facts are summed by day and
-- dimension first, then rolled up into periods, as the domain models do; the singular test
-- assert_kpi_breakdowns_add_up_to_kpi_values ties every split back to kpi_values.
with

periods as (

    select * from {{ ref('int_periods') }}
    where period_type in ('year', 'quarter', 'month')

),

kpi_definitions as (

    select * from {{ ref('kpi_definitions') }}

),

projects as (

    select * from {{ ref('dim_investment_projects') }}

),

cases as (

    select * from {{ ref('fct_permit_cases') }}

),

items as (

    select * from {{ ref('dim_service_items') }}
    where is_current

),

events as (

    select * from {{ ref('fct_market_entity_events') }}

),

dimensions as (

    select * from (values
        ('team', '招商团'),
        ('cluster', '产业集群'),
        ('department', '实施部门'),
        ('intake', '受理方式'),
        ('township', '乡镇街道')
    ) as t (dimension, dimension_name_zh)

),

-- ---------------------------------------------------------------- investment projects

-- A project's team and cluster are those of its current version.
project_dimensions as (

    select
        project_id,
        dimension,
        dimension_value,
    from (
        select
            project_id,
            coalesce(team, '(未填)') as team,
            coalesce(cluster, '(未填)') as cluster,
        from projects
    ) unpivot (dimension_value for dimension in (team, cluster))

),

-- One row per project and milestone reached, with what it adds to the KPI: 1 project, or
-- the contracted amount (NULL amounts are skipped by the sum, as in kpi_values).
project_milestones as (

    select project_id, 'projects_signed' as kpi_code, signed_date as activity_date,
        1.0 as amount,
    from projects
    where signed_date is not null
    union all
    select project_id, 'contract_investment_signed', signed_date, contract_investment,
    from projects
    where signed_date is not null
    union all
    select project_id, 'projects_started', started_date, 1.0,
    from projects
    where started_date is not null
    union all
    select project_id, 'projects_in_production', production_date, 1.0,
    from projects
    where production_date is not null

),

project_milestones_by_day as (

    select
        project_milestones.kpi_code,
        project_milestones.activity_date,
        project_dimensions.dimension,
        project_dimensions.dimension_value,
        sum(project_milestones.amount) as amount,
    from project_milestones
    inner join project_dimensions
        on project_milestones.project_id = project_dimensions.project_id
    group by all

),

project_milestones_by_period as (

    select
        d.kpi_code,
        periods.period_type,
        periods.period_start,
        d.dimension,
        d.dimension_value,
        sum(d.amount) as amount,
    from periods
    inner join project_milestones_by_day as d
        on d.activity_date between periods.period_start and periods.cutoff_date
    group by all

),

project_grid as (

    select
        kpis.kpi_code,
        periods.period_type,
        periods.period_start,
        dimension_values.dimension,
        dimension_values.dimension_value,
    from periods
    cross join (
        select * from (values
            ('projects_signed'),
            ('contract_investment_signed'),
            ('projects_started'),
            ('projects_in_production')
        ) as t (kpi_code)
    ) as kpis
    cross join (
        select distinct dimension, dimension_value from project_dimensions
    ) as dimension_values

),

project_values as (

    select
        grid.*,
        -- Counts and sums are 0 where nothing happened.
        coalesce(p.amount, 0) as value,
    from project_grid as grid
    left join project_milestones_by_period as p
        on grid.kpi_code = p.kpi_code
        and grid.period_type = p.period_type
        and grid.period_start = p.period_start
        and grid.dimension = p.dimension
        and grid.dimension_value = p.dimension_value

),

-- ---------------------------------------------------------------- government-service cases

-- Cases are first summed by completion day, department and intake (a case not completed has
-- no day, but its department and intake still name dimension values), so the rest runs on
-- those sums, not on every case. A case's department is that of its service item in the
-- current catalogue; a code the catalogue lacks has none.
cases_by_day as (

    select
        if(cases.is_completed, cast(cases.completed_at as date), null) as activity_date,
        coalesce(items.department, '(未填)') as department,
        coalesce(cases.intake, '(未填)') as intake,
        count(*) filter (where cases.is_completed and cases.completed_at is not null)
            as cases_completed,
        sum(cases.trips) filter (where cases.is_completed and cases.completed_at is not null)
            as trips,
        count(*) filter (
            where cases.is_completed and cases.completed_at is not null
                and cases.channel = '全程网办'
        ) as online_cases,
    from cases
    left join items
        on cases.item_code = items.item_code
    group by all

),

case_dimensions as (

    select * from cases_by_day
    unpivot (dimension_value for dimension in (department, intake))

),

-- "Completed in P": status 已办结 and completed_at in P, as in kpi_values.
completed_by_day as (

    select
        activity_date,
        dimension,
        dimension_value,
        sum(cases_completed) as cases_completed,
        sum(trips) as trips,
        sum(online_cases) as online_cases,
    from case_dimensions
    where activity_date is not null
    group by all

),

completed_by_period as (

    select
        periods.period_type,
        periods.period_start,
        d.dimension,
        d.dimension_value,
        sum(d.cases_completed) as cases_completed,
        sum(d.trips) as trips,
        sum(d.online_cases) as online_cases,
    from periods
    inner join completed_by_day as d
        on d.activity_date between periods.period_start and periods.cutoff_date
    group by all

),

case_grid as (

    select
        periods.period_type,
        periods.period_start,
        dimension_values.dimension,
        dimension_values.dimension_value,
        coalesce(c.cases_completed, 0) as cases_completed,
        c.trips,
        c.online_cases,
    from periods
    cross join (
        select distinct dimension, dimension_value from case_dimensions
    ) as dimension_values
    left join completed_by_period as c
        on periods.period_type = c.period_type
        and periods.period_start = c.period_start
        and dimension_values.dimension = c.dimension
        and dimension_values.dimension_value = c.dimension_value

),

case_values as (

    select
        period_type, period_start, dimension, dimension_value,
        'cases_completed' as kpi_code,
        cast(cases_completed as double) as value,
    from case_grid
    union all
    select
        period_type, period_start, dimension, dimension_value,
        'avg_trips_per_case',
        cast(trips as double) / nullif(cases_completed, 0),
    from case_grid
    union all
    select
        period_type, period_start, dimension, dimension_value,
        'online_case_rate',
        cast(online_cases as double) / nullif(cases_completed, 0),
    from case_grid

),

-- ---------------------------------------------------------------- market entities

-- After each event (by completed_at, then event_id) an entity exists as its latest
-- 设立/注销/吊销 event says (a 变更 changes nothing), in the township its event names. Each
-- event moves the entity out of the township it stood in before (-1 if it existed) and into
-- the one it stands in after (+1 if it exists); cumulated by day these give each township's
-- count, and over all townships they net to the same day-by-day change as entities_total.
entity_states as (

    select
        uscc,
        event_id,
        event_type,
        completed_at,
        coalesce(township, '(未填)') as township,
        coalesce(
            last_value(
                case event_type
                    when '设立' then true
                    when '注销' then false
                    when '吊销' then false
                end ignore nulls
            ) over (
                partition by uscc order by completed_at, event_id
                rows between unbounded preceding and current row
            ),
            false
        ) as exists_after,
    from events

),

entity_moves as (

    select
        *,
        coalesce(lag(exists_after) over by_entity, false) as existed_before,
        lag(township) over by_entity as township_before,
    from entity_states
    window by_entity as (partition by uscc order by completed_at, event_id)

),

entity_changes_by_day as (

    select activity_date, township, sum(change) as change,
    from (
        select cast(completed_at as date) as activity_date, township, 1 as change,
        from entity_moves
        where exists_after
        union all
        select cast(completed_at as date), township_before, -1,
        from entity_moves
        where existed_before
    )
    group by all

),

entity_totals_by_day as (

    select
        township,
        activity_date,
        sum(change) over (partition by township order by activity_date) as entities_total,
    from entity_changes_by_day

),

townships as (

    select distinct coalesce(township, '(未填)') as township from events

),

township_grid as (

    select
        periods.period_type,
        periods.period_start,
        periods.cutoff_date,
        townships.township,
    from periods
    cross join townships

),

-- The total at the end of P is the running total of the last day with a change on or
-- before the cutoff date.
township_totals as (

    select
        grid.period_type,
        grid.period_start,
        grid.township,
        cast(coalesce(t.entities_total, 0) as double) as value,
    from township_grid as grid
    asof left join entity_totals_by_day as t
        on grid.township = t.township
        and grid.cutoff_date >= t.activity_date

),

-- entities_new: 设立 events completed in P, by the township the event names.
established_by_day as (

    select
        cast(completed_at as date) as activity_date,
        coalesce(township, '(未填)') as township,
        count(*) as entities_new,
    from events
    where event_type = '设立'
    group by all

),

established_by_period as (

    select
        periods.period_type,
        periods.period_start,
        d.township,
        sum(d.entities_new) as entities_new,
    from periods
    inner join established_by_day as d
        on d.activity_date between periods.period_start and periods.cutoff_date
    group by all

),

township_new as (

    select
        grid.period_type,
        grid.period_start,
        grid.township,
        cast(coalesce(e.entities_new, 0) as double) as value,
    from township_grid as grid
    left join established_by_period as e
        on grid.period_type = e.period_type
        and grid.period_start = e.period_start
        and grid.township = e.township

),

entity_values as (

    select
        'entities_new' as kpi_code, period_type, period_start,
        'township' as dimension, township as dimension_value, value,
    from township_new
    union all
    select
        'entities_total', period_type, period_start,
        'township', township, value,
    from township_totals

),

-- ----------------------------------------------------------------

all_values as (

    select kpi_code, period_type, period_start, dimension, dimension_value, value,
    from project_values
    union all
    select kpi_code, period_type, period_start, dimension, dimension_value, value,
    from case_values
    union all
    select kpi_code, period_type, period_start, dimension, dimension_value, value,
    from entity_values

),

final as (

    select
        cast(all_values.kpi_code as varchar) as kpi_code,
        kpi_definitions.kpi_name_zh,
        kpi_definitions.unit,
        periods.period_type,
        periods.period_start,
        periods.period_end,
        cast(all_values.dimension as varchar) as dimension,
        dimensions.dimension_name_zh,
        cast(all_values.dimension_value as varchar) as dimension_value,
        cast(all_values.value as double) as value,
        periods.as_of,
    from all_values
    inner join periods
        on all_values.period_type = periods.period_type
        and all_values.period_start = periods.period_start
    inner join kpi_definitions
        on all_values.kpi_code = kpi_definitions.kpi_code
    inner join dimensions
        on all_values.dimension = dimensions.dimension

)

select * from final
