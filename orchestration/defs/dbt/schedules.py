"""The daily rebuild at 06:00."""

import dagster as dg

marts_job_schedule = dg.ScheduleDefinition(
    name="marts_job_schedule",
    job_name="marts_job",
    cron_schedule="0 6 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 06:00 Asia/Shanghai, so the day's figures (and any period that "
    "has just ended) are rebuilt before office hours even when no file arrived overnight.",
)
