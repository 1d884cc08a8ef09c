-- Investment-project milestones summed by day, 招商团 team and 产业集群 cluster: what the
-- project KPIs count on each day (a signing with its amounts, a start, a production, a lead, a
-- first talk), from the milestones of int_investment_projects_unpivoted_to_milestones. The
-- rollup to periods and the breakdowns both sum these rows. Sums skip projects without an
-- amount and are NULL where a day has none. Amounts are summed as decimals: exact, so that a
-- total does not depend on the order DuckDB adds the rows in, and the splits of a total by
-- team or cluster add up to it to the last digit.
with

milestones as (

    select * from {{ ref('int_investment_projects_unpivoted_to_milestones') }}
    where milestone_date is not null

),

final as (

    select
        milestone_date as activity_date,
        team,
        cluster,
        count(*) filter (where stage = '线索') as leads,
        count(*) filter (where stage = '洽谈') as first_talks,
        count(*) filter (where stage = '签约') as projects_signed,
        sum(cast(contract_investment as decimal(38, 10))) filter (where stage = '签约')
            as contract_investment_signed,
        count(*) filter (where stage = '签约' and is_industrial) as industrial_projects_signed,
        sum(cast(planned_investment as decimal(38, 10)))
            filter (where stage = '签约' and is_industrial) as industrial_investment_signed,
        -- investment_per_mu: industrial signings with land; no planned investment counts as 0.
        sum(cast(coalesce(planned_investment, 0) as decimal(38, 10)))
            filter (where stage = '签约' and is_industrial and land_mu > 0)
            as industrial_investment_on_land,
        sum(cast(land_mu as decimal(38, 10)))
            filter (where stage = '签约' and is_industrial and land_mu > 0)
            as industrial_land_mu,
        count(*) filter (where stage = '签约' and is_industrial and land_mu > 0)
            as industrial_projects_on_land,
        count(*) filter (where stage = '开工') as projects_started,
        count(*) filter (where stage = '开工' and is_industrial) as industrial_projects_started,
        count(*) filter (where stage = '投产') as projects_in_production
    from milestones
    group by all

)

select * from final
