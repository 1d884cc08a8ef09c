-- Every loaded version of every registration event, as typed by the loader.
-- Columns pass through by name: raw.market_entities is derived from the contract, and
-- personal data is already only a keyed hash and a mask there.
with

source as (

    select * from {{ source('raw', 'market_entities') }}

),

final as (

    -- The contract: an empty 返乡创业 means 否.
    {{ select_star_replacing('source', {'is_returnee': 'coalesce(is_returnee, false)'}) }}

)

select * from final
