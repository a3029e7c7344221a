-- Success and failure of attempts by region, mission type and user type: the funnel's totals at
-- the level recommendations (success-rate prior for similar users) and reports read. Attempts are
-- placed by the mission's region and the user's type (`staff` for accounts without one).
-- is_small_cell flags segments of fewer than 5 people (suppressed outside the platform).
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
        last_step_reached,
        step_count,
        duration_minutes
    from attempts
    where region_code is not null and mission_type is not null
),

aggregated as (
    select
        region_code,
        mission_type,
        user_type,
        count(*) as attempts_count,
        count(distinct user_key) as users_count,
        count(*) filter (where outcome = 'completed') as completed_count,
        count(*) filter (where outcome = 'failed') as failed_count,
        count(*) filter (where outcome = 'abandoned') as abandoned_count,
        count(*) filter (where outcome = 'in_progress') as in_progress_count,
        avg(last_step_reached::numeric / nullif(step_count, 0)) filter (
            where outcome in ('failed', 'abandoned')
        ) as mean_share_of_steps_before_stopping,
        percentile_cont(0.5) within group (order by duration_minutes) filter (
            where outcome = 'completed'
        ) as median_minutes_to_complete
    from segmented
    group by region_code, mission_type, user_type
),

final as (
    select
        region_code::varchar(5) as region_code,
        mission_type::text as mission_type,
        user_type::text as user_type,
        attempts_count::integer as attempts_count,
        users_count::integer as users_count,
        completed_count::integer as completed_count,
        failed_count::integer as failed_count,
        abandoned_count::integer as abandoned_count,
        in_progress_count::integer as in_progress_count,
        round(
            completed_count::numeric / nullif(completed_count + failed_count + abandoned_count, 0), 4
        )::numeric(5, 4) as completion_rate,
        round(mean_share_of_steps_before_stopping, 4)::numeric(5, 4) as mean_share_of_steps_before_stopping,
        round(median_minutes_to_complete::numeric, 1)::numeric(12, 1) as median_minutes_to_complete,
        (users_count < 5)::boolean as is_small_cell
    from aggregated
)

select * from final
