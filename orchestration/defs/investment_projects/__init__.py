"""investment_projects (招商项目库): its raw asset and its freshness check.

The landing sensor watches every source's folder at once (warehouse/sensors.py)."""
