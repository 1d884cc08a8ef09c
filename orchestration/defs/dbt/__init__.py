"""dbt: staging, intermediate, marts and KPIs as assets, their tests as checks."""
