"""warehouse: what spans every source: the whole job, declarative automation, the hourly
freshness checks, and the deployment's settings as a resource."""
