{#- Generic test: a combination of columns is unique (the grain of a model keyed by several
    columns). Fails with each duplicated combination and its count. -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as duplicate_count
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
