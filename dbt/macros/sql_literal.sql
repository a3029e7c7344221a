{#- A value as a quoted SQL string literal (quotes doubled). Kept here rather than
    dbt.string_literal so that sqlfluff's jinja templater renders the models without dbt. -#}
{% macro sql_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
