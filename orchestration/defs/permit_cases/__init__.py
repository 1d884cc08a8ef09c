"""permit_cases (政务服务办件): its raw asset, its landing sensor, its freshness check."""
