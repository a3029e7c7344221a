{#- Generic test: the relation has at least one row (a mart built from data that never arrived is
    an incident, not a success). -#}
{% test not_empty(model) %}
select 1 as no_rows
where not exists (select 1 from {{ model }})
{% endtest %}
