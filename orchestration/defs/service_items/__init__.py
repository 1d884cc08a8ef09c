"""service_items (政务服务事项目录): its raw asset and its freshness check.

The landing sensor watches every source's folder at once (warehouse/sensors.py)."""
