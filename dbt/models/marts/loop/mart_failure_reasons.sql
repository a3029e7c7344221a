-- Why attempts fail, by region, mission type and user type: failures per reason (the fixed list of
-- core.vocab.FailureReason), their share of the segment's failures and of its ended attempts.
-- is_small_cell flags fewer than 5 people behind a row (suppressed outside the platform).
with

attempts as (
    select * from {{ ref('fct_mission_attempts') }}
),

segmented as (
    select
        region_code,
        mission_type,
        coalesce(user_type, 'staff') as user_type,
        user_key,
        outcome,
        failure_reason
    from attempts
    where region_code is not null and mission_type is not null
),

segments as (
    select
        region_code,
        mission_type,
        user_type,
        count(*) filter (where outcome = 'failed') as segment_failures_count,
        count(*) filter (where outcome in ('completed', 'failed', 'abandoned')) as segment_ended_count
    from segmented
    group by region_code, mission_type, user_type
),

reasons as (
    select
        region_code,
        mission_type,
        user_type,
        coalesce(failure_reason, 'other') as failure_reason,
        count(*) as failures_count,
        count(distinct user_key) as users_count
    from segmented
    where outcome = 'failed'
    group by region_code, mission_type, user_type, coalesce(failure_reason, 'other')
),

final as (
    select
        reasons.region_code::varchar(5) as region_code,
        reasons.mission_type::text as mission_type,
        reasons.user_type::text as user_type,
        reasons.failure_reason::text as failure_reason,
        reasons.failures_count::integer as failures_count,
        reasons.users_count::integer as users_count,
        round(reasons.failures_count::numeric / segments.segment_failures_count, 4)::numeric(5, 4)
            as share_of_failures,
        round(reasons.failures_count::numeric / nullif(segments.segment_ended_count, 0), 4)::numeric(5, 4)
            as share_of_ended_attempts,
        (reasons.users_count < 5)::boolean as is_small_cell
    from reasons
    inner join segments
        on
            reasons.region_code = segments.region_code
            and reasons.mission_type = segments.mission_type
            and reasons.user_type = segments.user_type
)

select * from final
