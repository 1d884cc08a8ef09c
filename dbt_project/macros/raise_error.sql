{# Why: a row the build must not go on with stops the query with a message that says what to
   do (calendar_not_covered). DuckDB calls that function error(), Spark raise_error(). #}
{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error', 'kzdw')(message)) }}
{%- endmacro %}

{% macro default__raise_error(message) -%}
    error({{ message }})
{%- endmacro %}

{% macro spark__raise_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}
