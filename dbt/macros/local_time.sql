{#- Calendar values (dates, months) in the users' time zone (var local_time_zone, Asia/Seoul):
    an event at 00:30 KST on the 1st belongs to that day and month, not to the UTC day before. -#}
{% macro local_date(timestamp_column) -%}
    (({{ timestamp_column }}) at time zone {{ sql_literal(var('local_time_zone')) }})::date
{%- endmacro %}

{% macro local_month(timestamp_column) -%}
    date_trunc('month', ({{ timestamp_column }}) at time zone {{ sql_literal(var('local_time_zone')) }})::date
{%- endmacro %}
