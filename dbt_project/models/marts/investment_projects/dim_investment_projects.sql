-- One row per investment-promotion project, its current version.
with

projects as (

    select * from {{ ref('stg_investment_projects__projects') }}

),

final as (

    select
        project_id,
        project_name,
        investor,
        cluster,
        team,
        is_industrial,
        stage,
        planned_investment,
        contract_investment,
        land_mu,
        lead_date,
        first_talk_date,
        signed_date,
        started_date,
        production_date,
        updated_at,
        _load_id,
        _file_name,
        _row_number
    from projects

)

select * from final
