-- KPIs split by a dimension leaders ask about, one row per (kpi_code, period, dimension,
-- dimension value), for the periods of kpi_values and every value the dimension takes in the
-- data (0, or NULL for a ratio, where a value has nothing in P).
-- Nothing is counted here: the rows come from the same per-day intermediate models that
-- kpi_values is rolled up from, which carry the dimensions (which case is completed on which
-- day and in which department and intake; when an entity exists and in which township; which
-- date is a project's signing, start or production, with its team and cluster). They are
-- summed by day and dimension value, then over the days of each period, as the rollups do;
-- the singular test assert_kpi_breakdowns_add_up_to_kpi_values ties every split back.
with

periods as (

    select * from {{ ref('int_periods') }}
    where period_type in ('year', 'quarter', 'month')

),

kpi_definitions as (

    select * from {{ ref('kpi_definitions') }}

),

project_days as (

    select * from {{ ref('int_investment_projects_summed_by_day') }}

),

case_days as (

    select * from {{ ref('int_permit_cases_summed_by_day') }}

),

entity_days as (

    select * from {{ ref('int_market_entities_summed_by_day') }}

),

-- The KPIs each dimension splits.
splits as (

    select * from (values
        ('team', '招商团', 'projects_signed'),
        ('team', '招商团', 'contract_investment_signed'),
        ('team', '招商团', 'projects_started'),
        ('team', '招商团', 'projects_in_production'),
        ('cluster', '产业集群', 'projects_signed'),
        ('cluster', '产业集群', 'contract_investment_signed'),
        ('cluster', '产业集群', 'projects_started'),
        ('cluster', '产业集群', 'projects_in_production'),
        ('department', '实施部门', 'cases_completed'),
        ('department', '实施部门', 'avg_trips_per_case'),
        ('department', '实施部门', 'online_case_rate'),
        ('intake', '受理方式', 'cases_completed'),
        ('intake', '受理方式', 'avg_trips_per_case'),
        ('intake', '受理方式', 'online_case_rate'),
        ('township', '乡镇街道', 'entities_new'),
        ('township', '乡镇街道', 'entities_total')
    ) as t (dimension, dimension_name_zh, kpi_code)

),

-- One row per (day, dimension, dimension value) of every domain, with that domain's sums.
project_splits_by_day as (

    select
        activity_date,
        dimension,
        dimension_value,
        sum(projects_signed) as projects_signed,
        sum(contract_investment_signed) as contract_investment_signed,
        sum(projects_started) as projects_started,
        sum(projects_in_production) as projects_in_production
    from project_days
    unpivot (dimension_value for dimension in (team, cluster))
    group by all

),

case_splits_by_day as (

    select
        activity_date,
        dimension,
        dimension_value,
        sum(cases_completed) as cases_completed,
        sum(trips) as trips,
        sum(online_cases) as online_cases
    from case_days
    unpivot (dimension_value for dimension in (department, intake))
    group by all

),

entity_splits_by_day as (

    select
        activity_date,
        'township' as dimension,
        township as dimension_value,
        entity_change,
        entities_new
    from entity_days

),

splits_by_day as (

    select
        activity_date,
        dimension,
        dimension_value,
        projects_signed,
        contract_investment_signed,
        projects_started,
        projects_in_production,
        null as cases_completed,
        null as trips,
        null as online_cases,
        null as entities_new
    from project_splits_by_day
    union all
    select
        activity_date,
        dimension,
        dimension_value,
        null as projects_signed,
        null as contract_investment_signed,
        null as projects_started,
        null as projects_in_production,
        cases_completed,
        trips,
        online_cases,
        null as entities_new
    from case_splits_by_day
    union all
    select
        activity_date,
        dimension,
        dimension_value,
        null as projects_signed,
        null as contract_investment_signed,
        null as projects_started,
        null as projects_in_production,
        null as cases_completed,
        null as trips,
        null as online_cases,
        entities_new
    from entity_splits_by_day

),

-- Each day's row once for its year, once for its quarter and once for its month, with the
-- start of that period: the periods are then joined by their start, which every engine joins
-- by hashing, and not by a range that pairs each period with every day.
splits_by_day_and_period_type as (

    select
        period_types.period_type,
        cast(date_trunc(period_types.period_type, d.activity_date) as date) as period_start,
        d.*
    from splits_by_day as d
    cross join (select distinct period_type from periods) as period_types

),

flows_by_period as (

    select
        periods.period_type,
        periods.period_start,
        d.dimension,
        d.dimension_value,
        sum(d.projects_signed) as projects_signed,
        sum(d.contract_investment_signed) as contract_investment_signed,
        sum(d.projects_started) as projects_started,
        sum(d.projects_in_production) as projects_in_production,
        sum(d.cases_completed) as cases_completed,
        sum(d.trips) as trips,
        sum(d.online_cases) as online_cases,
        sum(d.entities_new) as entities_new
    from periods
    inner join splits_by_day_and_period_type as d
        on d.period_type = periods.period_type
        and d.period_start = periods.period_start
        and d.activity_date <= periods.cutoff_date
    group by all

),

-- Every period and every value each dimension takes in the data.
grid as (

    select
        periods.period_type,
        periods.period_start,
        periods.cutoff_date,
        dimension_values.dimension,
        dimension_values.dimension_value
    from periods
    cross join (select distinct dimension, dimension_value from splits_by_day) as dimension_values

),

-- A township's total at the end of P: the changes of its entities summed over the days up
-- to the cutoff date. Each period's cutoff joins the township's sequence of days (after the
-- changes of its own day) with no change of its own, so that one running sum gives every
-- period's total: no period is paired with every day before it.
days_and_cutoffs as (

    select
        grid.period_type,
        grid.period_start,
        grid.dimension,
        grid.dimension_value,
        grid.cutoff_date as on_date,
        1 as is_cutoff,
        0 as entity_change
    from grid
    where grid.dimension = 'township'
    union all
    select
        null as period_type,
        null as period_start,
        dimension,
        dimension_value,
        activity_date as on_date,
        0 as is_cutoff,
        entity_change
    from entity_splits_by_day

),

running_totals as (

    select
        period_type,
        period_start,
        dimension,
        dimension_value,
        is_cutoff,
        sum(entity_change) over (
            partition by dimension, dimension_value
            order by on_date, is_cutoff
            rows between unbounded preceding and current row
        ) as entities_total
    from days_and_cutoffs

),

totals_by_period as (

    select
        period_type,
        period_start,
        dimension,
        dimension_value,
        entities_total
    from running_totals
    where is_cutoff = 1

),

split_values as (

    select
        grid.period_type,
        grid.period_start,
        grid.dimension,
        grid.dimension_value,
        -- Counts and sums are 0 where nothing happened; ratios NULL without cases.
        cast(coalesce(f.projects_signed, 0) as double) as projects_signed,
        cast(coalesce(f.contract_investment_signed, 0) as double) as contract_investment_signed,
        cast(coalesce(f.projects_started, 0) as double) as projects_started,
        cast(coalesce(f.projects_in_production, 0) as double) as projects_in_production,
        cast(coalesce(f.cases_completed, 0) as double) as cases_completed,
        cast(f.trips as double) / nullif(f.cases_completed, 0) as avg_trips_per_case,
        cast(f.online_cases as double) / nullif(f.cases_completed, 0) as online_case_rate,
        cast(coalesce(f.entities_new, 0) as double) as entities_new,
        cast(coalesce(t.entities_total, 0) as double) as entities_total
    from grid
    left join flows_by_period as f
        on grid.period_type = f.period_type
        and grid.period_start = f.period_start
        and grid.dimension = f.dimension
        and grid.dimension_value = f.dimension_value
    left join totals_by_period as t
        on grid.period_type = t.period_type
        and grid.period_start = t.period_start
        and grid.dimension = t.dimension
        and grid.dimension_value = t.dimension_value

),

unpivoted as (

    select * from split_values
    unpivot include nulls (value for kpi_code in (
        projects_signed,
        contract_investment_signed,
        projects_started,
        projects_in_production,
        cases_completed,
        avg_trips_per_case,
        online_case_rate,
        entities_new,
        entities_total
    ))

),

final as (

    select
        cast(unpivoted.kpi_code as string) as kpi_code,
        kpi_definitions.kpi_name_zh,
        kpi_definitions.unit,
        periods.period_type,
        periods.period_start,
        periods.period_end,
        cast(unpivoted.dimension as string) as dimension,
        splits.dimension_name_zh,
        cast(unpivoted.dimension_value as string) as dimension_value,
        cast(unpivoted.value as double) as value,
        periods.as_of
    from unpivoted
    inner join splits
        on unpivoted.dimension = splits.dimension
        and unpivoted.kpi_code = splits.kpi_code
    inner join periods
        on unpivoted.period_type = periods.period_type
        and unpivoted.period_start = periods.period_start
    inner join kpi_definitions
        on unpivoted.kpi_code = kpi_definitions.kpi_code

)

select * from final
