"""The hourly freshness checks."""

import dagster as dg

freshness_checks_schedule = dg.ScheduleDefinition(
    name="freshness_checks_schedule",
    job_name="freshness_checks_job",
    cron_schedule="15 * * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour at :15, so a missed deadline shows as a failed check within the "
    "hour, source by source, with the days overdue.",
)
