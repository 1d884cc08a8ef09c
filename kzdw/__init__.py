"""kzdw outside the Dagster code location: the deployment's settings and what people read."""
