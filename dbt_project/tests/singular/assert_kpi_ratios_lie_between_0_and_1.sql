-- Ratios are fractions 0-1 (not percent). Net growth is a ratio too but may be negative or
-- above 1, so it is left out. Returns the offending rows.
select *
from {{ ref('kpi_values') }}
where unit = 'ratio'
    and kpi_code <> 'entities_net_growth_rate'
    and (value < 0 or value > 1)
