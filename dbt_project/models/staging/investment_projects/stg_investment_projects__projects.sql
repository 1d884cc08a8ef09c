-- The current version of each investment-promotion project.
with

versions as (

    select * from {{ ref('stg_investment_projects__project_versions') }}

),

final as (

    select *
    from versions
    {{ keep_current_version('project_id') }}

)

select * from final
