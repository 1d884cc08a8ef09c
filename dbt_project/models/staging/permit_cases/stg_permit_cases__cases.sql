-- The current version of each government-service case.
with

versions as (

    select * from {{ ref('stg_permit_cases__case_versions') }}

),

final as (

    select *
    from versions
    {{ keep_current_version('case_id') }}

)

select * from final
