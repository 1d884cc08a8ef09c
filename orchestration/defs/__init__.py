"""The Dagster objects, one folder per domain, in fixed file names: assets.py, checks.py,
sensors.py, schedules.py, jobs.py, resources.py (loaded by `dg.load_from_defs_folder`)."""
