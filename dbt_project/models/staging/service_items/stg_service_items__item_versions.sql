-- Every loaded version of every catalogue item, with the time span it was the current one.
-- A version is valid from its updated_at until the next version's updated_at (exclusive).
-- A version that lost a tie on updated_at gets valid_to = valid_from: it is never valid.
with

source as (

    select * from {{ source('raw', 'service_items') }}

),

final as (

    select
        *,
        updated_at as valid_from,
        lead(updated_at) over (
            partition by item_code order by {{ latest_version_first('asc') }}
        ) as valid_to
    from source

)

select * from final
