-- Every split of kpi_breakdowns adds up to kpi_values, for every period and every dimension
-- the KPI is split by: counts and sums add up; an average or share, weighted by the
-- cases_completed of the same split, gives the KPI's value (NULL where no case completed).
-- A split missing for a period where the KPI is not 0 is returned too. Returns the offending (kpi, period,
-- dimension) rows.
with

kpi_values as (

    select * from {{ ref('kpi_values') }}

),

breakdowns as (

    select * from {{ ref('kpi_breakdowns') }}

),

expected_splits as (

    select * from (values
        ('projects_signed', 'team'),
        ('projects_signed', 'cluster'),
        ('contract_investment_signed', 'team'),
        ('contract_investment_signed', 'cluster'),
        ('projects_started', 'team'),
        ('projects_started', 'cluster'),
        ('projects_in_production', 'team'),
        ('projects_in_production', 'cluster'),
        ('cases_completed', 'department'),
        ('cases_completed', 'intake'),
        ('avg_trips_per_case', 'department'),
        ('avg_trips_per_case', 'intake'),
        ('online_case_rate', 'department'),
        ('online_case_rate', 'intake'),
        ('entities_new', 'township'),
        ('entities_total', 'township')
    ) as t (kpi_code, dimension)

),

summed as (

    select
        kpi_code,
        period_type,
        period_start,
        dimension,
        sum(value) as value
    from breakdowns
    where kpi_code not in ('avg_trips_per_case', 'online_case_rate')
    group by all

),

weighted as (

    select
        shares.kpi_code,
        shares.period_type,
        shares.period_start,
        shares.dimension,
        sum(shares.value * cases.value) filter (where cases.value > 0)
            / nullif(sum(cases.value), 0) as value
    from breakdowns as shares
    inner join breakdowns as cases
        on cases.kpi_code = 'cases_completed'
        and shares.period_type = cases.period_type
        and shares.period_start = cases.period_start
        and shares.dimension = cases.dimension
        and shares.dimension_value = cases.dimension_value
    where shares.kpi_code in ('avg_trips_per_case', 'online_case_rate')
    group by all

),

totals as (

    select *, true as is_present from summed
    union all
    select *, true from weighted

),

compared as (

    select
        kpi_values.kpi_code,
        kpi_values.period_type,
        kpi_values.period_start,
        expected_splits.dimension,
        kpi_values.value as kpi_value,
        totals.value as breakdown_total,
        totals.is_present
    from kpi_values
    inner join expected_splits
        on kpi_values.kpi_code = expected_splits.kpi_code
    left join totals
        on kpi_values.kpi_code = totals.kpi_code
        and kpi_values.period_type = totals.period_type
        and kpi_values.period_start = totals.period_start
        and expected_splits.dimension = totals.dimension

)

-- A split may be absent where there is nothing to split (a source with no rows yet).
select *
from compared
where (is_present is null and coalesce(kpi_value, 0) <> 0)
    or (is_present and {{ kpi_value_changed('breakdown_total', 'kpi_value') }})
