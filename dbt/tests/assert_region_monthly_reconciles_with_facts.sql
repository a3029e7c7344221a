-- The monthly region mart loses and invents nothing: its enrolments, ended attempts and check-ins
-- add up to the same totals as the facts it is built from. Returns the measures that disagree.
with

monthly as (
    select
        sum(enrolments_count) as enrolments_count,
        sum(completions_count + failures_count + abandonments_count) as ended_count,
        sum(checkins_count + rejected_checkins_count) as checkins_count
    from {{ ref('mart_region_activity_monthly') }}
),

attempts as (
    select
        count(*) filter (where region_code is not null) as enrolments_count,
        count(*) filter (
            where region_code is not null and outcome in ('completed', 'failed', 'abandoned')
        ) as ended_count
    from {{ ref('fct_mission_attempts') }}
),

events as (
    select count(*) as checkins_count
    from {{ ref('fct_activity_events') }}
    where event_type = 'checkin' and region_code is not null
),

compared as (
    select 'enrolments' as measure, monthly.enrolments_count as in_mart, attempts.enrolments_count as in_facts
    from monthly cross join attempts
    union all
    select 'ended attempts', monthly.ended_count, attempts.ended_count
    from monthly cross join attempts
    union all
    select 'check-ins', monthly.checkins_count, events.checkins_count
    from monthly cross join events
)

select * from compared
where coalesce(in_mart, 0) <> coalesce(in_facts, 0)
