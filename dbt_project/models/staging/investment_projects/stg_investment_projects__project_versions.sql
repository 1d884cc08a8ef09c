-- Every loaded version of every investment-promotion project, as typed by the loader.
-- Columns pass through by name: raw.investment_projects is derived from the contract.
with

source as (

    select * from {{ source('raw', 'investment_projects') }}

),

final as (

    select * from source

)

select * from final
