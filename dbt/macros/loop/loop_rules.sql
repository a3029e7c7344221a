{#- GENERATED from dbt/badges.yml (and core.ranking.DAILY_POINTS_CAP) by
    `python -m core.badges compile` (core/badges.py): do not edit. The numbers the loop models use:
    points per confirmed volunteer hour and the hours one confirmation counts at most, the mission
    points a user can earn per Korean day, the minutes that make a stay day and the longest gap
    between two verified proofs still counted as presence. -#}
{% macro loop_rule(name) -%}
    {%- set numbers = {
        'volunteer_points_per_hour': 20,
        'volunteer_hours_cap': 12,
        'daily_points_cap': 500,
        'stay_day_minutes': 180,
        'max_gap_minutes': 240
    } -%}
    {%- if name not in numbers -%}
        {{ exceptions.raise_compiler_error("loop_rule: unknown rule '" ~ name ~ "'") }}
    {%- endif -%}
    {{ return(numbers[name]) }}
{%- endmacro %}
