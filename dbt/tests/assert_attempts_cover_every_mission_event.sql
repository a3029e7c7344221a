-- Every mission event of the facts belongs to exactly one attempt, and the attempts count them all:
-- returns a row when the events counted by attempts differ from the mission events there are.
with

attempt_events as (
    select coalesce(sum(events_count), 0) as events_count
    from {{ ref('fct_mission_attempts') }}
),

mission_events as (
    select count(*) as events_count
    from {{ ref('fct_activity_events') }}
    where mission_id is not null
)

select
    attempt_events.events_count as counted_by_attempts,
    mission_events.events_count as mission_events
from attempt_events cross join mission_events
where attempt_events.events_count <> mission_events.events_count
