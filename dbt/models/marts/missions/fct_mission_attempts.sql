-- One row per attempt of a user at a mission: who (pseudonymous), which mission and region, how
-- far it got, how it ended and why. Attempt rules: int_activity_events__attempt_assigned and
-- int_mission_attempts__aggregated.
-- Built after the models its relationships tests read (a subset build runs those tests with this
-- model, never before it exists: assets/warehouse/assets.py):
-- depends_on: {{ ref('dim_region') }}
-- depends_on: {{ ref('dim_user') }}
-- depends_on: {{ ref('dim_mission') }}
-- Indexed by region: the reports and region pages ask one 시군구 at a time.
{{ config(indexes=[{'columns': ['region_code']}]) }}

with

attempts as (
    select * from {{ ref('int_mission_attempts__aggregated') }}
),

missions as (
    select * from {{ ref('stg_app__missions') }}
),

steps as (
    select * from {{ ref('int_mission_steps__counted') }}
),

users as (
    select * from {{ ref('stg_app__users') }}
),

joined as (
    select
        attempts.attempt_id,
        {{ pseudonymize('attempts.user_id') }} as user_key,
        attempts.mission_id,
        missions.mission_type,
        missions.region_code,
        users.user_type,
        attempts.attempt_no,
        attempts.enrolled_at,
        attempts.ended_at,
        attempts.outcome,
        attempts.failure_reason,
        attempts.failure_reason_text,
        attempts.last_step_reached,
        coalesce(steps.step_count, 0) as step_count,
        attempts.last_step_reached >= coalesce(steps.step_count, 0) as is_fully_stepped,
        round(extract(epoch from attempts.ended_at - attempts.enrolled_at) / 60.0, 1) as duration_minutes,
        attempts.events_count,
        attempts.has_enrolment_event,
        attempts.is_superseded
    from attempts
    left join missions on attempts.mission_id = missions.mission_id
    left join steps on attempts.mission_id = steps.mission_id
    left join users on attempts.user_id = users.user_id
),

final as (
    select
        attempt_id::text as attempt_id,
        user_key::text as user_key,
        mission_id::uuid as mission_id,
        mission_type::text as mission_type,
        region_code::varchar(5) as region_code,
        user_type::text as user_type,
        attempt_no::integer as attempt_no,
        enrolled_at::timestamptz as enrolled_at,
        ended_at::timestamptz as ended_at,
        outcome::text as outcome,
        failure_reason::text as failure_reason,
        failure_reason_text::text as failure_reason_text,
        last_step_reached::integer as last_step_reached,
        step_count::integer as step_count,
        is_fully_stepped::boolean as is_fully_stepped,
        duration_minutes::numeric(12, 1) as duration_minutes,
        events_count::integer as events_count,
        has_enrolment_event::boolean as has_enrolment_event,
        is_superseded::boolean as is_superseded
    from joined
)

select * from final
