{# Why: the landing contract's rule for the current version of a key (latest updated_at; on a
   tie the later-loaded file; then the later row of that file) is used by every source and
   must read the same everywhere. `direction` = 'desc' puts the current version first. NULLs
   last both ways, as DuckDB sorts them (Spark puts them first in ascending order). #}
{% macro latest_version_first(direction='desc') -%}
    updated_at {{ direction }} nulls last,
    _load_id {{ direction }} nulls last,
    _row_number {{ direction }} nulls last
{%- endmacro %}
