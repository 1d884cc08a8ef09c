"""The daily rebuild of marts, KPIs, checks and the serving copy."""

import dagster as dg

marts_job = dg.define_asset_job(
    "marts_job",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.groups(
        "market_entities", "permit_cases", "service_items", "investment_projects"
    ).upstream(depth=0),
    description="dbt build of staging, marts and KPIs with their tests, the KPI completeness "
    "check and the serving copy, on the raw layer as it stands (no file loading).",
)

marts_job_schedule = dg.ScheduleDefinition(
    name="marts_job_schedule",
    job=marts_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 06:00 Asia/Shanghai, so the day's figures (and any period that "
    "has just ended) are rebuilt before office hours even when no file arrived overnight.",
)
