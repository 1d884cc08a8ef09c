-- The current version of each registration event.
with

versions as (

    select * from {{ ref('stg_market_entities__event_versions') }}

),

final as (

    select *
    from versions
    {{ keep_current_version('event_id') }}

)

select * from final
