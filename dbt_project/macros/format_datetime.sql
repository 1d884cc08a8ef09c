{# Why: a date or time is written as text with strftime codes on DuckDB and with Java
   date_format patterns on Spark. The models give strftime codes, which read the same in the
   report's Python; on Spark each code is translated (only those the project uses). #}
{% macro format_datetime(value, format) -%}
    {{ return(adapter.dispatch('format_datetime', 'kzdw')(value, format)) }}
{%- endmacro %}

{% macro default__format_datetime(value, format) -%}
    strftime({{ value }}, '{{ format }}')
{%- endmacro %}

{% macro spark__format_datetime(value, format) -%}
    {%- set patterns = {
        '%Y': 'yyyy', '%m': 'MM', '%-m': 'M', '%d': 'dd', '%-d': 'd',
        '%H': 'HH', '%M': 'mm', '%S': 'ss', '%f': 'SSSSSS',
    } -%}
    {%- set pattern = namespace(text='') -%}
    {%- for part in modules.re.findall('%-?.|[^%]+', format) -%}
        {%- if part.startswith('%') and part in patterns -%}
            {%- set pattern.text = pattern.text ~ patterns[part] -%}
        {%- elif part.startswith('%') or modules.re.search('[A-Za-z]', part) -%}
            {#- Java reads letters as pattern letters: quoting them is not needed yet. -#}
            {%- do exceptions.raise_compiler_error(
                'format_datetime: no Spark pattern for ' ~ part ~ ' in ' ~ format
            ) -%}
        {%- else -%}
            {%- set pattern.text = pattern.text ~ part -%}
        {%- endif -%}
    {%- endfor -%}
    date_format({{ value }}, '{{ pattern.text }}')
{%- endmacro %}
