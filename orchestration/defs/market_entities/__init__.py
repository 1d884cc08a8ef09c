"""market_entities (市场主体登记事件): its raw asset and its freshness check.

The landing sensor watches every source's folder at once (warehouse/sensors.py)."""
