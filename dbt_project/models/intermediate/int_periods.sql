-- The period grid every KPI is computed on: each year, quarter and month that starts on or
-- before the as-of date and ends on or after the first day of the first month with data.
-- cutoff_date = least(period_end, as_of): "in P" means a date in [period_start, cutoff_date].
-- Plus one period that is not reported in kpi_values: 'ytd_prior', the same part of the year
-- before the as-of year (1 January to the as-of month-day, one year earlier), so that the
-- scorecard's same-period-last-year figure comes out of the same KPI logic as every other.
{%- set as_of = var('as_of', '') | trim %}
with

case_versions as (

    select * from {{ ref('stg_permit_cases__case_versions') }}

),

event_versions as (

    select * from {{ ref('stg_market_entities__event_versions') }}

),

item_versions as (

    select * from {{ ref('stg_service_items__item_versions') }}

),

project_versions as (

    select * from {{ ref('stg_investment_projects__project_versions') }}

),

-- Every loaded version counts: the grid must not move when a later version corrects a date.
-- The date of the earliest time, not the earliest of the dates: the same day, and DuckDB
-- reads a column's minimum and maximum from its statistics instead of every row.
source_bounds as (

    select
        cast(min(submitted_at) as date) as first_date,
        cast(max(updated_at) as date) as last_updated_date
    from case_versions
    union all
    select cast(min(completed_at) as date), cast(max(updated_at) as date) from event_versions
    union all
    select cast(min(updated_at) as date), cast(max(updated_at) as date) from item_versions
    union all
    select min(lead_date), cast(max(updated_at) as date) from project_versions

),

bounds as (

    select
        cast(date_trunc('month', min(first_date)) as date) as first_month_start,
        {% if as_of -%}
        cast('{{ as_of }}' as date) as as_of
        {%- else -%}
        max(last_updated_date) as as_of
        {%- endif %}
    from source_bounds

),

period_types as (

    select * from (values
        ('year', interval 1 year),
        ('quarter', interval 3 month),
        ('month', interval 1 month)
    ) as t (period_type, period_length)

),

candidates as (

    select
        period_types.period_type,
        period_types.period_length,
        bounds.first_month_start,
        bounds.as_of,
        cast(s.period_start as date) as period_start
    from bounds
    cross join period_types
    cross join {{ series(
        "cast(date_trunc(period_types.period_type, least(bounds.first_month_start, bounds.as_of))
            as timestamp)",
        "cast(bounds.as_of as timestamp)",
        "period_types.period_length",
        's', 'period_start'
    ) }}

),

reported as (

    select
        period_type,
        period_start,
        cast(period_start + period_length - interval 1 day as date) as period_end,
        least(cast(period_start + period_length - interval 1 day as date), as_of) as cutoff_date,
        as_of
    from candidates
    where period_start + period_length - interval 1 day >= first_month_start

),

-- The prior year up to the as-of month-day (29 February falls back to the 28th). Its nominal
-- end stays 31 December, as for the as-of year's own row, so that the coverage KPIs count the
-- same whole quarters. Only when data covers that whole prior year: a comparison with a year
-- half without data would not be a like-for-like one.
ytd_prior as (

    select
        'ytd_prior' as period_type,
        cast(date_trunc('year', as_of) - interval 1 year as date) as period_start,
        cast(date_trunc('year', as_of) - interval 1 day as date) as period_end,
        cast(as_of - interval 1 year as date) as cutoff_date,
        as_of
    from bounds
    where date_trunc('year', as_of) - interval 1 year >= first_month_start

),

final as (

    select * from reported
    union all
    select * from ytd_prior

)

select * from final
