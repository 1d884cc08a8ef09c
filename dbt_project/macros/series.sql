{# Why: the periods, weeks and days of a range are rows made from a series, joined laterally to
   the row that bounds it (`cross join {{ series(...) }}`). DuckDB unnests generate_series
   (empty when start > stop); Spark explodes sequence, which fails on start > stop with a
   positive step, so the range is checked first (explode of NULL gives no row). #}
{% macro series(start, stop, step, alias, column) -%}
    {{ return(adapter.dispatch('series', 'kzdw')(start, stop, step, alias, column)) }}
{%- endmacro %}

{% macro default__series(start, stop, step, alias, column) -%}
    unnest(generate_series({{ start }}, {{ stop }}, {{ step }})) as {{ alias }} ({{ column }})
{%- endmacro %}

{% macro spark__series(start, stop, step, alias, column) -%}
    lateral explode(case when {{ start }} <= {{ stop }}
        then sequence({{ start }}, {{ stop }}, {{ step }}) end) as {{ alias }} ({{ column }})
{%- endmacro %}
