"""investment_projects (招商项目库): its raw asset, its landing sensor, its freshness check."""
