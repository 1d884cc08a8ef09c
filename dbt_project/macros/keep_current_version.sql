{# Why: the current version of each key is picked in the staging views and again inside the
   incremental fct_permit_cases (over the changed cases only); one clause keeps them alike. #}
{% macro keep_current_version(key) -%}
    qualify row_number() over (partition by {{ key }} order by {{ latest_version_first() }}) = 1
{%- endmacro %}
