{# Why: the staging views pass the raw columns through by name, and those columns are
   described once, in the sources yml generated from sources/contracts.py. persist_docs writes
   only the descriptions a model states itself; this post-hook gives every other column of a
   staging view the description of the column of the same name upstream: in the staging view
   it selects from, or in the raw source (read directly or through that view). A client then
   shows the Chinese header beside each column without a second, hand-written column list.
   On Spark nothing: a view's column comments are given when it is created (persist_docs), not
   altered after, and the tables people read are published back to DuckDB with theirs. #}
{% macro comment_columns_from_sources() -%}
    {{ return(adapter.dispatch('comment_columns_from_sources', 'kzdw')()) }}
{%- endmacro %}

{% macro default__comment_columns_from_sources() -%}
    {%- if execute -%}
        {%- set own = [] -%}
        {%- for name, column in model.columns.items() if column.description -%}
            {%- do own.append(name | lower) -%}
        {%- endfor -%}
        {#- Nearest first: a parent model's own descriptions, then the sources. -#}
        {%- set upstream = [] -%}
        {%- for parent_id in model.depends_on.nodes -%}
            {%- if parent_id in graph.nodes -%}
                {%- do upstream.append(graph.nodes[parent_id]) -%}
                {%- for grandparent_id in graph.nodes[parent_id].depends_on.nodes
                    if grandparent_id in graph.sources -%}
                    {%- do upstream.append(graph.sources[grandparent_id]) -%}
                {%- endfor -%}
            {%- elif parent_id in graph.sources -%}
                {%- do upstream.append(graph.sources[parent_id]) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set inherited = {} -%}
        {%- for node in upstream -%}
            {%- for name, column in node.columns.items()
                if column.description and (name | lower) not in inherited -%}
                {%- do inherited.update({name | lower: column.description}) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- for column in adapter.get_columns_in_relation(this)
            if (column.name | lower) in inherited and (column.name | lower) not in own %}
    comment on column {{ this }}.{{ adapter.quote(column.name) }} is
        '{{ inherited[column.name | lower] | replace("'", "''") }}';
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro spark__comment_columns_from_sources() -%}
{%- endmacro %}
