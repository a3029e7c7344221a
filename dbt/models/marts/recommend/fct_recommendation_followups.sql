-- One row per user × mission first recommended (serving.recommendation_log): did the user enrol in
-- that mission, and complete it, within N days of its first recommendation?
-- Rule: enrolled = an attempt of the same user at the same mission with
--       first_recommended_at <= enrolled_at < first_recommended_at + N days;
--       completed = such an attempt whose outcome is completed and whose ended_at is before the same bound.
-- N is the var recommendation_followup_days (default 14). A window still running at build time is
-- counted as not (yet) followed and marked is_window_open.
with

recommended as (
    select * from {{ ref('stg_serving__recommendation_log') }}
),

missions as (
    select * from {{ ref('dim_mission') }}
),

attempts as (
    select * from {{ ref('fct_mission_attempts') }}
),

keyed as (
    select
        {{ pseudonymize('recommended.user_id') }} as user_key,
        recommended.mission_id,
        recommended.recommendation_rank,
        recommended.score,
        recommended.engine,
        recommended.first_recommended_at,
        recommended.first_recommended_at
        + make_interval(days => {{ var('recommendation_followup_days', 14) }}) as window_end_at
    from recommended
),

followed as (
    select
        keyed.user_key,
        keyed.mission_id,
        min(attempts.enrolled_at) as first_enrolled_at,
        min(attempts.ended_at) filter (
            where attempts.outcome = 'completed' and attempts.ended_at < keyed.window_end_at
        ) as completed_at
    from keyed
    inner join attempts
        on
            keyed.user_key = attempts.user_key
            and keyed.mission_id = attempts.mission_id
            and keyed.first_recommended_at <= attempts.enrolled_at
            and keyed.window_end_at > attempts.enrolled_at
    group by keyed.user_key, keyed.mission_id
),

final as (
    select
        keyed.user_key::text as user_key,
        keyed.mission_id::uuid as mission_id,
        missions.mission_type::text as mission_type,
        keyed.recommendation_rank::integer as recommendation_rank,
        keyed.score::double precision as score,
        keyed.engine::text as engine,
        keyed.first_recommended_at::timestamptz as first_recommended_at,
        {{ local_month('keyed.first_recommended_at') }}::date as recommended_month,
        {{ var('recommendation_followup_days', 14) }}::integer as followup_days,
        keyed.window_end_at::timestamptz as window_end_at,
        (keyed.window_end_at > now())::boolean as is_window_open,
        followed.first_enrolled_at::timestamptz as first_enrolled_at,
        followed.completed_at::timestamptz as completed_at,
        (followed.first_enrolled_at is not null)::boolean as is_enrolled,
        (followed.completed_at is not null)::boolean as is_completed,
        round((extract(epoch from followed.first_enrolled_at - keyed.first_recommended_at) / 86400.0)::numeric, 2)
        ::numeric(8, 2) as days_to_enrol
    from keyed
    left join followed
        on
            keyed.user_key = followed.user_key
            and keyed.mission_id = followed.mission_id
    left join missions on keyed.mission_id = missions.mission_id
)

select * from final
