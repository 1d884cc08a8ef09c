{# Why: a list or checksum of values joined in a fixed order. DuckDB takes the order inside
   the call (string_agg(x, sep order by y)); Spark only as WITHIN GROUP. #}
{% macro string_agg_ordered(expression, separator, order_by) -%}
    {{ return(adapter.dispatch('string_agg_ordered', 'kzdw')(expression, separator, order_by)) }}
{%- endmacro %}

{% macro default__string_agg_ordered(expression, separator, order_by) -%}
    string_agg({{ expression }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__string_agg_ordered(expression, separator, order_by) -%}
    string_agg({{ expression }}, {{ separator }}) within group (order by {{ order_by }})
{%- endmacro %}
