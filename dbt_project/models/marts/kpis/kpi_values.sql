-- The KPI contract table: one row per (kpi_code, period_type, period_start) for every KPI
-- and every period of the grid, with the value, the unit, the target where one is set, and
-- the as-of date the row was computed for.
with

-- The scorecard's ytd_prior period is computed beside the others but not reported here.
periods as (

    select * from {{ ref('int_periods') }}
    where period_type in ('year', 'quarter', 'month')

),

kpi_definitions as (

    select * from {{ ref('kpi_definitions') }}

),

kpi_targets as (

    select * from {{ ref('kpi_targets') }}

),

computed as (

    select * from {{ ref('int_kpi_values_unpivoted') }}

),

final as (

    select
        kpi_definitions.kpi_code,
        kpi_definitions.kpi_name_zh,
        periods.period_type,
        periods.period_start,
        periods.period_end,
        computed.value,
        kpi_definitions.unit,
        kpi_targets.target,
        periods.as_of
    from periods
    cross join kpi_definitions
    left join computed
        on kpi_definitions.kpi_code = computed.kpi_code
        and periods.period_type = computed.period_type
        and periods.period_start = computed.period_start
    left join kpi_targets
        on kpi_definitions.kpi_code = kpi_targets.kpi_code
        and periods.period_type = kpi_targets.period_type
        and periods.period_start = kpi_targets.period_start

)

select * from final
