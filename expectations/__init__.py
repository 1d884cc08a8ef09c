"""Great Expectations suites, one per source and one for `marts.kpi_values`, and their runner."""

import os
import sys

# Great Expectations probes Spark Connect (pyspark.sql.connect) when it is imported. The suites
# run on pandas and never use it, and pyspark, where it is installed beside kzdw (dbt's own
# environment, dbt_env/, holds it otherwise), ends the whole process from that import when
# `__main__` has no file, which it takes for its own doctests: pytest-xdist's workers are such
# processes. GX takes the absent module for "not installed".
sys.modules.setdefault("pyspark.sql.connect", None)
# Read by Great Expectations when it is imported: no usage reports from a machine without
# internet. Every module that imports GX is in this package, so this runs first.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
