-- The current version of each catalogue item.
with

versions as (

    select * from {{ ref('stg_service_items__item_versions') }}

),

final as (

    select *
    from versions
    {{ keep_current_version('item_code') }}

)

select * from final
