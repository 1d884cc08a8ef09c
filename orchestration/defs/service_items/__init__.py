"""service_items (政务服务事项目录): its raw asset, its landing sensor, its freshness check."""
