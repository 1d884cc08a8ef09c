-- The current version of each catalogue item.
with

versions as (

    select * from {{ ref('stg_service_items__item_versions') }}

),

final as (

    select *
    from versions
    qualify row_number() over (
        partition by item_code order by {{ latest_version_first() }}
    ) = 1

)

select * from final
