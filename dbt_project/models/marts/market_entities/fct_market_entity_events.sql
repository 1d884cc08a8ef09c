-- One row per market-entity registration event, its current version.
with

events as (

    select * from {{ ref('stg_market_entities__events') }}

),

final as (

    select
        event_id,
        uscc,
        entity_name,
        entity_type,
        industry_section,
        township,
        registered_capital,
        event_type,
        submitted_at,
        completed_at,
        cast(completed_at as date) as completed_date,
        is_returnee,
        legal_rep_name_hash,
        legal_rep_name_masked,
        legal_rep_id_hash,
        legal_rep_id_masked,
        updated_at,
        _load_id,
        _file_name,
        _row_number
    from events

)

select * from final
