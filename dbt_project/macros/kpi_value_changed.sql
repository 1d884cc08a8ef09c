{# Why: a KPI recomputed from unchanged rows can differ in the last bits (DuckDB sums doubles
   in parallel, in no fixed order); only a change beyond that noise is a new value. NULL to a
   number, or back, is a change. #}
{% macro kpi_value_changed(new_value, old_value) -%}
    coalesce(
        abs({{ new_value }} - {{ old_value }})
            > 1e-9 * greatest(1.0, abs({{ old_value }})),
        ({{ new_value }} is null) <> ({{ old_value }} is null)
    )
{%- endmacro %}
