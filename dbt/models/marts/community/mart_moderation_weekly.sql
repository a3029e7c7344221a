-- Moderation volume and times per week (of opening, Asia/Seoul) and origin (report or screen): cases
-- opened, still open, closed by each action, the median and 90th-percentile minutes to close, appeals
-- and overturned decisions.
with

cases as (
    select * from {{ ref('fct_moderation_cases') }}
),

dated as (
    select
        *,
        date_trunc(
            'week', opened_at at time zone {{ sql_literal(var('local_time_zone')) }}
        )::date as opened_week_date
    from cases
),

final as (
    select
        opened_week_date,
        opened_by,
        count(*) as cases_count,
        count(*) filter (where case_status = 'open') as open_cases_count,
        sum(report_count)::bigint as reports_count,
        count(*) filter (where closing_action = 'dismiss') as dismissed_count,
        count(*) filter (where closing_action = 'hide') as hidden_count,
        count(*) filter (where closing_action in ('warn', 'suspend', 'ban')) as sanctioned_count,
        percentile_cont(0.5) within group (order by minutes_to_close) as median_minutes_to_close,
        percentile_cont(0.9) within group (order by minutes_to_close) as p90_minutes_to_close,
        count(*) filter (where is_appealed) as appeals_count,
        count(*) filter (where is_overturned) as overturned_count
    from dated
    group by opened_week_date, opened_by
)

select * from final
