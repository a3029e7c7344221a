-- Intervals of verified presence of a user in a 시군구 (the raw material of 생활인구 stay days).
-- Two kinds, both conservative (a single proof proves an instant, not a stay):
--   verified_points: between two consecutive verified proofs of the user (accepted check-in or QR
--     scan, payload.accepted = true) in the same 시군구 at most loop_rule('max_gap_minutes') apart;
--     a proof in another 시군구 in between breaks the chain.
--   confirmed_hours: a host-confirmed volunteering claim of h hours (capped like the points) is the
--     h hours before the matching claim (the user's latest hours_claimed for that mission and step at
--     or before the confirmation), or before the confirmation itself when no claim was recorded.
-- The region is the event's, else its mission's. Intervals may overlap; int_stay_days__summed merges.
with

events as (
    select * from {{ ref('stg_raw__activity_events') }}
),

missions as (
    select * from {{ ref('stg_app__missions') }}
),

located as (
    select
        events.event_id,
        events.user_id,
        events.occurred_at,
        events.event_type,
        events.mission_id,
        events.step_no,
        events.payload,
        events.payload_is_accepted,
        coalesce(events.region_code, missions.region_code) as region_code
    from events
    left join missions on events.mission_id = missions.mission_id
),

proofs as (
    select
        event_id,
        user_id,
        occurred_at,
        region_code,
        lead(occurred_at) over (partition by user_id order by occurred_at, event_id) as next_occurred_at,
        lead(region_code) over (partition by user_id order by occurred_at, event_id) as next_region_code
    from located
    where
        event_type in ('checkin', 'qr_scanned')
        and payload_is_accepted is true
        and region_code is not null
),

point_intervals as (
    select
        user_id,
        region_code,
        occurred_at as started_at,
        next_occurred_at as ended_at,
        'verified_points' as presence_source,
        event_id as source_event_id
    from proofs
    where
        next_region_code = region_code
        and next_occurred_at > occurred_at
        and next_occurred_at - occurred_at <= interval '{{ loop_rule("max_gap_minutes") }} minutes'
),

hour_events as (
    select
        event_id,
        user_id,
        mission_id,
        coalesce(step_no, 0) as step_key,
        occurred_at,
        event_type,
        region_code,
        payload
    from located
    where event_type in ('hours_claimed', 'hours_confirmed')
),

with_last_claim as (
    -- the latest claim at or before each event of the same user, mission and step (a window, not a
    -- join: claims sort before a confirmation at the same instant)
    select
        *,
        max(case when event_type = 'hours_claimed' then occurred_at end) over (
            partition by user_id, mission_id, step_key
            order by occurred_at, case when event_type = 'hours_claimed' then 0 else 1 end, event_id
            rows between unbounded preceding and current row
        ) as last_claimed_at
    from hour_events
),

claimed as (
    select
        event_id,
        user_id,
        region_code,
        least(greatest((payload ->> 'hours')::numeric, 0), {{ loop_rule('volunteer_hours_cap') }}) as hours,
        coalesce(last_claimed_at, occurred_at) as ended_at
    from with_last_claim
    where
        event_type = 'hours_confirmed'
        and jsonb_typeof(payload -> 'hours') = 'number'
        and region_code is not null
),

hour_intervals as (
    select
        user_id,
        region_code,
        ended_at - hours * interval '1 hour' as started_at,
        ended_at,
        'confirmed_hours' as presence_source,
        event_id as source_event_id
    from claimed
    where hours > 0
),

unioned as (
    select * from point_intervals
    union all
    select * from hour_intervals
)

select * from unioned
