-- Every KPI of every domain, one row per (kpi_code, period_type, period_start): the domain
-- models hold one column per kpi_code, all DOUBLE, so one unpivot serves them all.
{%- set domains = [
    'int_permit_cases_rolled_up_to_periods',
    'int_service_items_rolled_up_to_periods',
    'int_market_entities_rolled_up_to_periods',
    'int_investment_projects_rolled_up_to_periods',
] %}
with
{% for domain in domains %}
{{ domain }} as (

    select * from {{ ref(domain) }}

),
{% endfor %}
unpivoted as (
{% for domain in domains %}
    select period_type, period_start, kpi_code, value
    -- Nulls stay: a ratio with no cases is NULL, and still a row.
    from {{ domain }} unpivot include nulls (
        value for kpi_code in (
            {{ unpivot_columns(ref(domain), ['period_type', 'period_start']) }}
        )
    )
    {%- if not loop.last %}
    union all
    {%- endif %}
{% endfor %}
),

final as (

    select
        cast(kpi_code as string) as kpi_code,
        cast(period_type as string) as period_type,
        cast(period_start as date) as period_start,
        cast(value as double) as value
    from unpivoted

)

select * from final
