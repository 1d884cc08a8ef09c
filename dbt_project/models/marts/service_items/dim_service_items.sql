-- One row per version of a catalogue item, with the span it was the current one: the item as
-- it stood at time T is the version with valid_from <= T < valid_to (valid_to null = still).
with

versions as (

    select * from {{ ref('stg_service_items__item_versions') }}

),

final as (

    select
        item_code,
        item_name,
        item_type,
        department,
        online_enabled,
        high_frequency,
        one_window,
        reform,
        item_status,
        valid_from,
        valid_to,
        valid_to is null as is_current,
        _load_id,
        _file_name,
        _row_number
    from versions
    -- A version that lost a tie on updated_at to a later-loaded file was never current.
    where valid_to is null or valid_to > valid_from

)

select * from final
