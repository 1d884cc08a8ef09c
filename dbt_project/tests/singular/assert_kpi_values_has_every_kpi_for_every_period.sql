-- Every KPI of kpi_definitions has one row for every period of the grid, every KPI is
-- computed by a domain model, and nothing else is in the table. Returns the offending rows.
with

periods as (

    select * from {{ ref('int_periods') }}
    where period_type in ('year', 'quarter', 'month')

),

kpi_definitions as (

    select * from {{ ref('kpi_definitions') }}

),

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

computed_codes as (

    select distinct kpi_code from {{ ref('int_kpi_values_unpivoted') }}

),

expected as (

    select kpi_definitions.kpi_code, periods.period_type, periods.period_start
    from periods
    cross join kpi_definitions

),

missing as (

    select *, 'missing from kpi_values' as problem
    from expected
    where not exists (
        select 1 from kpi_values
        where kpi_values.kpi_code = expected.kpi_code
            and kpi_values.period_type = expected.period_type
            and kpi_values.period_start = expected.period_start
    )

),

unexpected as (

    select kpi_code, period_type, period_start, 'not a KPI x period of the grid' as problem
    from kpi_values
    where not exists (
        select 1 from expected
        where kpi_values.kpi_code = expected.kpi_code
            and kpi_values.period_type = expected.period_type
            and kpi_values.period_start = expected.period_start
    )

),

not_computed as (

    select kpi_code, null as period_type, null as period_start,
        'no domain model computes this KPI' as problem
    from kpi_definitions
    where exists (select 1 from periods)
        and kpi_code not in (select kpi_code from computed_codes)

),

not_defined as (

    select kpi_code, null, null, 'computed but not in kpi_definitions' as problem
    from computed_codes
    where kpi_code not in (select kpi_code from kpi_definitions)

)

select * from missing
union all select * from unexpected
union all select * from not_computed
union all select * from not_defined
