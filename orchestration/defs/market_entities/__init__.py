"""market_entities (市场主体登记事件): its raw asset, its landing sensor, its freshness check."""
