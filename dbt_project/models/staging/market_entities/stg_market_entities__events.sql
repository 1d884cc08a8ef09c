-- The current version of each registration event.
with

versions as (

    select * from {{ ref('stg_market_entities__event_versions') }}

),

final as (

    select *
    from versions
    qualify row_number() over (
        partition by event_id order by {{ latest_version_first() }}
    ) = 1

)

select * from final
