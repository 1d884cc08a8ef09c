-- Investment-promotion projects (current version of each), one row per project and stage of
-- the path 线索 → 洽谈 → 签约 → 开工 → 投产 (seed investment_project_stages): the one place
-- that says which date marks which stage. milestone_date is NULL for a stage the project has
-- not reached. The project KPIs (int_investment_projects_summed_by_day) and the project funnel
-- both read these rows. 终止 is not a stage: a terminated project keeps the milestones it had
-- reached, as projects_signed counts a signing also if the project was later 终止.
with

projects as (

    select * from {{ ref('dim_investment_projects') }}

),

stages as (

    select * from {{ ref('investment_project_stages') }}

),

milestones as (

    select
        projects.project_id,
        stages.stage_order,
        stages.stage,
        case stages.stage
            when '线索' then projects.lead_date
            when '洽谈' then projects.first_talk_date
            when '签约' then projects.signed_date
            when '开工' then projects.started_date
            when '投产' then projects.production_date
        end as milestone_date,
        coalesce(projects.team, '(未填)') as team,
        coalesce(projects.cluster, '(未填)') as cluster,
        projects.is_industrial,
        projects.planned_investment,
        projects.contract_investment,
        projects.land_mu
    from projects
    cross join stages

),

final as (

    select * from milestones

)

select * from final
