{# Why: a figure is printed with a fixed number of decimals, rounded as Python's format() and
   DuckDB's format() round (the exact binary value, ties to even), so that a sentence and the
   report agree. Spark's format_string rounds half up on the shortest decimal form (0.125 ->
   0.13, DuckDB 0.12) and prints NULL as "null"; its format_number rounds as DuckDB does but
   groups thousands, so the separators are taken out again. #}
{% macro format_decimals(value, decimals) -%}
    {{ return(adapter.dispatch('format_decimals', 'kzdw')(value, decimals)) }}
{%- endmacro %}

{% macro default__format_decimals(value, decimals) -%}
    format('{:.{}f}', {{ value }}, {{ decimals }})
{%- endmacro %}

{% macro spark__format_decimals(value, decimals) -%}
    replace(format_number({{ value }}, {{ decimals }}), ',', '')
{%- endmacro %}
