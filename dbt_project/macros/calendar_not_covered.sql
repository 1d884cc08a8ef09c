{# Why: a working-day count past the official calendar's last year cannot be known before the
   State Council publishes that year's notice. Guessing "weekdays only" would quietly misjudge
   deadlines, so the build stops, naming the uncovered date and the seeds to extend.
   Without `last_covered_date` the uncovered date is `from_date` itself; with it, the dates
   after `last_covered_date` that `working_days` working days after `from_date` reach into. #}
{% macro calendar_not_covered(case_id, from_date, working_days=none, last_covered_date=none) -%}
    {%- set message -%}
        'working-day calendar does not cover '
        {%- if last_covered_date is none %}
        || {{ format_datetime(from_date, '%Y-%m-%d') }}
        || ' (case ' || {{ case_id }} || ' was accepted that day)'
        {%- else %}
        || 'the dates after ' || {{ format_datetime(last_covered_date, '%Y-%m-%d') }}
        || ' (deadline of case ' || {{ case_id }} || ': ' || {{ working_days }}
        || ' working days after ' || {{ format_datetime(from_date, '%Y-%m-%d') }} || ')'
        {%- endif %}
        || ': append the State Council holiday notice for that year to '
        || 'dbt_project/seeds/cn_calendar_years.csv and cn_calendar_days.csv, then rebuild'
    {%- endset -%}
    {{ raise_error(message) }}
{%- endmacro %}
