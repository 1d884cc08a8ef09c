{# Why: a model's required columns are one check, one scan of the table, instead of one dbt
   test (one query, one Dagster asset check) per column: a build has some 30 models and 100
   required columns, and on Spark each query costs a second or more whatever the rows.

   `columns`: the column names; an entry {name: condition} requires the column only on the
   rows where the SQL condition holds (a ratio may be NULL, a count may not). The test's own
   `where` config narrows the rows as for any test (macros/get_where_subquery.sql).
   Fails with one row per column that has NULLs: column_name and null_rows. #}
{% test not_null_columns(model, columns) %}
{%- set checks = [] -%}
{%- for entry in columns -%}
    {%- if entry is mapping -%}
        {%- for name, condition in entry.items() -%}
            {%- do checks.append((name, condition)) -%}
        {%- endfor -%}
    {%- else -%}
        {%- do checks.append((entry, none)) -%}
    {%- endif -%}
{%- endfor %}
with counted as (
    select
    {%- for name, condition in checks %}
        sum(case when {{ adapter.quote(name) }} is null
            {%- if condition %} and ({{ condition }}){% endif %} then 1 else 0 end) as nulls_{{ loop.index }}
        {{- "," if not loop.last }}
    {%- endfor %}
    from {{ model }}
)
{%- for name, condition in checks %}
select '{{ name }}' as column_name, nulls_{{ loop.index }} as null_rows
from counted
where nulls_{{ loop.index }} > 0
{{ "union all" if not loop.last }}
{%- endfor %}
{% endtest %}
