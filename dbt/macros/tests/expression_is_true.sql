{#- Generic test: every row (optionally filtered by `where` in the test config) satisfies a SQL
    boolean expression. Fails with the rows where it is false or null. Written here because the
    project installs no hub packages (offline). -#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where not coalesce(({{ column_name ~ ' ' if column_name else '' }}{{ expression }}), false)
{% endtest %}
