{# Why: the scorecard's Chinese sentences show a figure as a leader reads it (ratios as
   percentages, money in 亿元, counts whole with thousands separators), and every sentence
   must print the same unit the same way. #}
{% macro format_kpi_value(value, unit) -%}
    case {{ unit }}
        when 'ratio' then format('{:.1f}%', {{ value }} * 100)
        when 'count' then format('{:,.0f}', {{ value }})
        when '100m_cny' then format('{:,.1f}亿元', {{ value }})
        when 'trips' then format('{:.2f}次', {{ value }})
        when '10k_cny_per_mu' then format('{:,.1f}万元/亩', {{ value }})
        else format('{}', {{ value }})
    end
{%- endmacro %}
