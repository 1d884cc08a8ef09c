"""permit_cases (政务服务办件): its raw asset and its freshness check.

The landing sensor watches every source's folder at once (warehouse/sensors.py)."""
