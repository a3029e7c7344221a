{#- A model's custom schema is used as it is (staging, intermediate, marts), never prefixed with the
    target schema: the schemas are part of the platform's contract (DESIGN.md), the same in every
    environment; environments differ by database, not by schema prefix. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
