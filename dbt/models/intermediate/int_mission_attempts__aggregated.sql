-- One row per attempt: when it started, how far it got and how it ended.
-- The outcome is that of the attempt's last status event (enrolled, resumed, completed, failed,
-- abandoned): abandoned → resumed → completed is completed; completed followed by late host
-- confirmations is still completed. An attempt left open when the user enrolled again counts as
-- abandoned (is_superseded); an open attempt without a later one is in_progress.
with

events as (
    select * from {{ ref('int_activity_events__attempt_assigned') }}
),

last_status as (
    select distinct on (attempt_id)
        attempt_id,
        event_type as last_status_event_type,
        occurred_at as last_status_at,
        payload_reason,
        payload_reason_text
    from events
    where
        event_type in (
            'mission_enrolled', 'mission_resumed',
            'mission_completed', 'mission_failed', 'mission_abandoned'
        )
    order by attempt_id asc, occurred_at desc, type_order desc, event_id desc
),

aggregated as (
    select
        attempt_id,
        user_id,
        mission_id,
        min(occurred_at) as enrolled_at,
        max(occurred_at) as last_event_at,
        coalesce(max(step_no) filter (where event_type = 'step_completed'), 0) as last_step_reached,
        count(*)::integer as events_count,
        bool_or(event_type = 'mission_enrolled') as has_enrolment_event
    from events
    group by attempt_id, user_id, mission_id
),

numbered as (
    select
        *,
        row_number() over (
            partition by user_id, mission_id order by enrolled_at, attempt_id
        )::integer as attempt_no,
        lead(enrolled_at) over (
            partition by user_id, mission_id order by enrolled_at, attempt_id
        ) is not null as is_superseded
    from aggregated
),

outcomes as (
    select
        numbered.attempt_id,
        numbered.user_id,
        numbered.mission_id,
        numbered.attempt_no,
        numbered.enrolled_at,
        numbered.last_event_at,
        numbered.last_step_reached,
        numbered.events_count,
        numbered.has_enrolment_event,
        case last_status.last_status_event_type
            when 'mission_completed' then 'completed'
            when 'mission_failed' then 'failed'
            when 'mission_abandoned' then 'abandoned'
            else case when numbered.is_superseded then 'abandoned' else 'in_progress' end
        end as outcome,
        last_status.last_status_event_type,
        last_status.last_status_at,
        last_status.payload_reason,
        last_status.payload_reason_text,
        numbered.is_superseded
    from numbered
    left join last_status on numbered.attempt_id = last_status.attempt_id
),

final as (
    select
        attempt_id,
        user_id,
        mission_id,
        attempt_no,
        enrolled_at,
        case
            when
                last_status_event_type in ('mission_completed', 'mission_failed', 'mission_abandoned')
                then last_status_at
            when outcome = 'abandoned' then last_event_at
        end as ended_at,
        outcome,
        case when outcome = 'failed' then payload_reason end as failure_reason,
        case when outcome = 'failed' then payload_reason_text end as failure_reason_text,
        last_step_reached,
        events_count,
        has_enrolment_event,
        (
            is_superseded
            and coalesce(last_status_event_type, 'none') in ('none', 'mission_enrolled', 'mission_resumed')
        ) as is_superseded
    from outcomes
)

select * from final
