{# Why: the landing contract's rule for the current version of a key (latest updated_at; on a
   tie the later-loaded file; then the later row of that file) is used by every source and
   must read the same everywhere. `direction` = 'desc' puts the current version first. #}
{% macro latest_version_first(direction='desc') -%}
    updated_at {{ direction }}, _load_id {{ direction }}, _row_number {{ direction }}
{%- endmacro %}

{# Why: the current version of each key is picked in the staging views and again inside the
   incremental fct_permit_cases (over the changed cases only); one clause keeps them alike. #}
{% macro keep_current_version(key) -%}
    qualify row_number() over (partition by {{ key }} order by {{ latest_version_first() }}) = 1
{%- endmacro %}
