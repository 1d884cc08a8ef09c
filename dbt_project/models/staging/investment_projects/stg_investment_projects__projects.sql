-- The current version of each investment-promotion project.
with

versions as (

    select * from {{ ref('stg_investment_projects__project_versions') }}

),

final as (

    select *
    from versions
    qualify row_number() over (
        partition by project_id order by {{ latest_version_first() }}
    ) = 1

)

select * from final
