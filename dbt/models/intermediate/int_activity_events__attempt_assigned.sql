-- Every mission event with the attempt it belongs to.
-- Within a (user, mission) pair, in time order, an attempt starts at each `mission_enrolled` or at
-- the pair's first event when there was no enrolment; everything after it (steps, resumes, the
-- terminal event, late host confirmations) belongs to it until the next enrolment. An attempt id
-- that the API put in the payload wins: first the event's own, then one found on any event of the
-- same sequence; otherwise the id is
--   md5(user_id || '|' || mission_id || '|' || <start, UTC, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'>).
-- Ties at the same instant are ordered enrolment → resume → other → terminal, then by event_id.
-- Only events already in fct_activity_events count: the attempts and the event facts then describe
-- the same events even while the API appends new ones during a build (those count at the next one).
with

events as (
    select staged.*
    from {{ ref('stg_raw__activity_events') }} as staged
    where exists (
        select 1 from {{ ref('fct_activity_events') }} as loaded
        where loaded.event_id = staged.event_id
    )
),

mission_events as (
    select
        event_id,
        user_id,
        mission_id,
        occurred_at,
        event_type,
        step_no,
        payload_attempt_id,
        payload_reason,
        payload_reason_text,
        case
            when event_type = 'mission_enrolled' then 0
            when event_type = 'mission_resumed' then 1
            when event_type in ('mission_completed', 'mission_failed', 'mission_abandoned') then 3
            else 2
        end as type_order
    from events
    where mission_id is not null
),

flagged as (
    select
        *,
        case
            when event_type = 'mission_enrolled' then 1
            when
                lag(event_id) over (
                    partition by user_id, mission_id
                    order by occurred_at, type_order, event_id
                ) is null
                then 1
            else 0
        end as starts_attempt
    from mission_events
),

sequenced as (
    select
        *,
        sum(starts_attempt) over (
            partition by user_id, mission_id
            order by occurred_at, type_order, event_id
            rows between unbounded preceding and current row
        ) as attempt_seq
    from flagged
),

grouped as (
    select
        *,
        min(occurred_at) over (partition by user_id, mission_id, attempt_seq) as sequence_started_at,
        min(payload_attempt_id) over (partition by user_id, mission_id, attempt_seq) as sequence_attempt_id
    from sequenced
),

assigned as (
    select
        event_id,
        user_id,
        mission_id,
        occurred_at,
        event_type,
        type_order,
        step_no,
        payload_reason,
        payload_reason_text,
        coalesce(
            payload_attempt_id,
            sequence_attempt_id,
            md5(
                user_id::text || '|' || mission_id::text || '|'
                || to_char(sequence_started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
            )
        ) as attempt_id
    from grouped
)

select * from assigned
