{# Why: the scorecard's Chinese sentences must print a figure exactly as the report does
   (kzdw/report/formatting.py, format_value): 0.21次, 100425户, 6.3%, 400亿元. The unit word
   and the decimals are facts about the KPI kept in seed kpi_definitions (unit_word,
   decimals), so a sentence and the report cannot disagree; only the rule is here: a ratio is
   shown as a percentage, the figure is rounded to its decimals, a fraction of all zeros is
   dropped (400亿元, not 400.0亿元), there is no thousands separator, and NULL stays NULL. #}
{% macro format_kpi_value(value, unit, decimals, unit_word) -%}
    regexp_replace(
        regexp_replace(
            {{ format_decimals(
                'case when ' ~ unit ~ " = 'ratio' then " ~ value ~ ' * 100 else ' ~ value ~ ' end',
                decimals
            ) }},
            '[.]0+$',
            ''
        ),
        '^-0$',
        '0'
    ) || coalesce({{ unit_word }}, '')
{%- endmacro %}
