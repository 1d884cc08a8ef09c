-- The current version of each government-service case.
with

versions as (

    select * from {{ ref('stg_permit_cases__case_versions') }}

),

final as (

    select *
    from versions
    qualify row_number() over (
        partition by case_id order by {{ latest_version_first() }}
    ) = 1

)

select * from final
