{# Why: every timestamp in the warehouse is Asia/Shanghai local time without an offset (the
   sources' times, audit.file_loads.loaded_at); dbt's run_started_at is UTC. One build, one
   value: every model of the build that records it renders the same literal. #}
{% macro local_run_started_at() -%}
    cast('{{ run_started_at.astimezone(modules.pytz.timezone("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
