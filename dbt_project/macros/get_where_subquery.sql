{# Why: on a warehouse of fifty million cases a test that reads every row of a large table
   costs more than the day's build. Two words in a test's `where` config narrow it, at run
   time, to the rows that build can have changed (a `where` cannot call a macro itself):
   - __built_last__: the rows of an incremental model stamped by its last build
     (_built_at = the table's latest; every row after a full build); __self__ names the
     tested table, so that a key built last can be looked for among all the rows;
   - __loaded_since_built_into(model)__: the versions loaded since `model` last took them in
     (_load_id above the highest in that model's table; every version when the table does
     not exist yet or on --full-refresh). The rows before were tested by the build that took
     them in, which stops before the model when the test fails. #}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {#- A namespace: a `set` inside the loop would not outlive it. -#}
        {%- set found = namespace(where=where | replace(
            '__built_last__',
            '_built_at = (select max(_built_at) from ' ~ relation ~ ')'
        ) | replace('__self__', relation | string)) -%}
        {%- for model_name in modules.re.findall(
            '__loaded_since_built_into\\((\\w+)\\)__', found.where
        ) -%}
            {%- set found.where = found.where | replace(
                '__loaded_since_built_into(' ~ model_name ~ ')__',
                '_load_id > ' ~ last_load_built_into(model_name)
            ) -%}
        {%- endfor -%}
        {%- set where = found.where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{# The highest _load_id in a model's table, as SQL; 0 when there is none to trust. The model is
   named, not ref'd: a ref would make the test wait for the model it guards. #}
{% macro last_load_built_into(model_name) -%}
    {%- set node = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', model_name) | first -%}
    {%- set relation = none -%}
    {%- if execute and not flags.FULL_REFRESH -%}
        {%- set relation = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.alias
        ) -%}
    {%- endif -%}
    {%- if relation is none -%}
        0
    {%- else -%}
        (select coalesce(max(_load_id), 0) from {{ relation }})
    {%- endif -%}
{%- endmacro %}
