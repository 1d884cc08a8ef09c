-- Every loaded version of every government-service case, as typed by the loader.
-- Columns pass through by name: raw.permit_cases is derived from the contract, and the
-- applicant's ID is already only a keyed hash and a mask there.
with

source as (

    select * from {{ source('raw', 'permit_cases') }}

),

final as (

    select * from source

)

select * from final
