-- The project funnel 线索 → 洽谈 → 签约 → 开工 → 投产, one row per (lead cohort, stage): of the
-- projects whose lead came in during a cohort's span, how many had reached at least that stage
-- by the as-of date, how many had got exactly that far, and their share of the cohort.
-- Two cohorts: the last full year before the as-of year, and the as-of year up to the as-of
-- date. A stage is reached when its milestone date is on or before the as-of date; a project
-- that went on to a later stage has passed the earlier ones even without their date (a
-- signing without a recorded first talk has passed 洽谈), so the counts never grow down the
-- funnel. 终止 ends a project's path but takes nothing back: it counts for the stages it had
-- reached, and its furthest stage is the last one it reached.
with

periods as (

    select * from {{ ref('int_periods') }}

),

stages as (

    select * from {{ ref('investment_project_stages') }}

),

milestones as (

    select * from {{ ref('int_investment_projects_unpivoted_to_milestones') }}

),

as_of as (

    select distinct as_of from periods

),

cohorts as (

    select
        'prior_year' as cohort,
        '上年全年' as cohort_name_zh,
        cast(date_trunc('year', as_of) - interval 1 year as date) as cohort_start,
        cast(date_trunc('year', as_of) - interval 1 day as date) as cohort_end,
        as_of
    from as_of
    union all
    select
        'year_to_date',
        '本年至今',
        cast(date_trunc('year', as_of) as date),
        as_of,
        as_of
    from as_of

),

-- Each project's lead date and the furthest stage it had reached by the as-of date.
progress as (

    select
        milestones.project_id,
        max(milestones.milestone_date) filter (where milestones.stage = '线索') as lead_date,
        max(milestones.stage_order) filter (where milestones.milestone_date <= as_of.as_of)
            as furthest_stage_order
    from milestones
    cross join as_of
    group by all

),

cohort_projects as (

    select
        cohorts.cohort,
        progress.project_id,
        progress.furthest_stage_order
    from cohorts
    inner join progress
        on progress.lead_date between cohorts.cohort_start and cohorts.cohort_end

),

counted as (

    select
        cohorts.cohort,
        stages.stage_order,
        count(cohort_projects.project_id) as cohort_projects,
        count(cohort_projects.project_id)
            filter (where cohort_projects.furthest_stage_order >= stages.stage_order)
            as projects_reached,
        count(cohort_projects.project_id)
            filter (where cohort_projects.furthest_stage_order = stages.stage_order)
            as projects_at_stage
    from cohorts
    cross join stages
    left join cohort_projects
        on cohorts.cohort = cohort_projects.cohort
    group by all

),

final as (

    select
        cohorts.cohort,
        cohorts.cohort_name_zh,
        cohorts.cohort_start,
        cohorts.cohort_end,
        cohorts.as_of,
        cast(stages.stage_order as integer) as stage_order,
        stages.stage,
        stages.milestone_zh,
        counted.cohort_projects,
        counted.projects_reached,
        counted.projects_at_stage,
        cast(counted.projects_reached as double) / nullif(counted.cohort_projects, 0)
            as share_of_cohort
    from counted
    inner join cohorts
        on counted.cohort = cohorts.cohort
    inner join stages
        on counted.stage_order = stages.stage_order

)

select * from final
