{# Why: dbt-spark loads a seed through bindings that its local session pastes into the SQL
   unescaped and unchanged for NULL: an empty cell became the text 'None' and "New Year's Day"
   broke the statement. The rows are written as SQL literals instead, one INSERT per batch.
   Overrides dbt-spark's spark__load_csv_rows (dispatched in the dbt namespace). #}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for column_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(
            column_name, adapter.convert_type(agate_table, loop.index0)
        )) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set values = [] -%}
        {%- for row in chunk -%}
            {%- set literals = [] -%}
            {%- for value in row -%}
                {%- if value is none -%}
                    {%- set literal = 'null' -%}
                {%- elif value is sameas true or value is sameas false -%}
                    {%- set literal = (value | string | lower) -%}
                {%- elif value is number -%}
                    {%- set literal = value | string -%}
                {%- else -%}
                    {%- set literal = "'" ~ (value | string | replace('\\', '\\\\')
                        | replace("'", "\\'")) ~ "'" -%}
                {%- endif -%}
                {%- do literals.append('cast(' ~ literal ~ ' as ' ~ types[loop.index0] ~ ')') -%}
            {%- endfor -%}
            {%- do values.append('(' ~ literals | join(', ') ~ ')') -%}
        {%- endfor -%}
        {%- set sql = 'insert into ' ~ this.render() ~ ' values ' ~ values | join(', ') -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}
