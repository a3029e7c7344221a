-- The funnel of every mission, one row per mission and step: step 0 is the enrolment (every
-- attempt), step k the attempts that completed step k. Between step k-1 and k an attempt either
-- went on, or stopped there: failed, abandoned (incl. superseded by a new enrolment) or still in
-- progress. drop_off_rate = (failed + abandoned at the step) ÷ attempts that reached step k-1.
-- Mission-level outcomes and the median time to complete repeat on every row of the mission, so a
-- reader (recommendation prior, reports) needs one table. Missions without attempts have zeros.
with

missions as (
    select * from {{ ref('dim_mission') }}
),

attempts as (
    select * from {{ ref('fct_mission_attempts') }}
),

mission_outcomes as (
    select
        mission_id,
        count(*) as attempts_count,
        count(distinct user_key) as users_count,
        count(*) filter (where outcome = 'completed') as completed_count,
        count(*) filter (where outcome = 'failed') as failed_count,
        count(*) filter (where outcome = 'abandoned') as abandoned_count,
        count(*) filter (where outcome = 'in_progress') as in_progress_count,
        percentile_cont(0.5) within group (order by duration_minutes) filter (
            where outcome = 'completed'
        ) as median_minutes_to_complete
    from attempts
    group by mission_id
),

steps as (
    select
        missions.mission_id,
        missions.mission_type,
        missions.region_code,
        missions.step_count,
        step_no
    from missions
    cross join lateral generate_series(0, missions.step_count) as step_no
),

step_counts as (
    select
        steps.mission_id,
        steps.step_no,
        count(attempts.attempt_id) filter (
            where attempts.last_step_reached >= steps.step_no
        ) as reached_count,
        count(attempts.attempt_id) filter (
            where attempts.last_step_reached >= steps.step_no - 1
        ) as previous_reached_count,
        count(attempts.attempt_id) filter (
            where attempts.last_step_reached = steps.step_no - 1 and attempts.outcome = 'failed'
        ) as failed_at_step_count,
        count(attempts.attempt_id) filter (
            where attempts.last_step_reached = steps.step_no - 1 and attempts.outcome = 'abandoned'
        ) as abandoned_at_step_count,
        count(attempts.attempt_id) filter (
            where attempts.last_step_reached = steps.step_no - 1 and attempts.outcome = 'in_progress'
        ) as in_progress_at_step_count
    from steps
    left join attempts on steps.mission_id = attempts.mission_id
    group by steps.mission_id, steps.step_no
),

joined as (
    select
        steps.mission_id,
        steps.step_no,
        steps.mission_type,
        steps.region_code,
        steps.step_count,
        coalesce(mission_outcomes.attempts_count, 0) as enrolled_count,
        step_counts.reached_count,
        case when steps.step_no > 0 then step_counts.previous_reached_count end as previous_reached_count,
        case when steps.step_no > 0 then step_counts.failed_at_step_count else 0 end as failed_at_step_count,
        case when steps.step_no > 0 then step_counts.abandoned_at_step_count else 0 end as abandoned_at_step_count,
        case when steps.step_no > 0 then step_counts.in_progress_at_step_count else 0 end
            as in_progress_at_step_count,
        coalesce(mission_outcomes.users_count, 0) as users_count,
        coalesce(mission_outcomes.completed_count, 0) as completed_count,
        coalesce(mission_outcomes.failed_count, 0) as failed_count,
        coalesce(mission_outcomes.abandoned_count, 0) as abandoned_count,
        coalesce(mission_outcomes.in_progress_count, 0) as in_progress_count,
        mission_outcomes.median_minutes_to_complete
    from steps
    inner join step_counts
        on steps.mission_id = step_counts.mission_id and steps.step_no = step_counts.step_no
    left join mission_outcomes on steps.mission_id = mission_outcomes.mission_id
),

final as (
    select
        mission_id::uuid as mission_id,
        step_no::integer as step_no,
        mission_type::text as mission_type,
        region_code::varchar(5) as region_code,
        step_count::integer as step_count,
        enrolled_count::integer as enrolled_count,
        reached_count::integer as reached_count,
        previous_reached_count::integer as previous_reached_count,
        failed_at_step_count::integer as failed_at_step_count,
        abandoned_at_step_count::integer as abandoned_at_step_count,
        in_progress_at_step_count::integer as in_progress_at_step_count,
        (failed_at_step_count + abandoned_at_step_count)::integer as dropped_count,
        round(
            (failed_at_step_count + abandoned_at_step_count)::numeric / nullif(previous_reached_count, 0), 4
        )::numeric(5, 4) as drop_off_rate,
        users_count::integer as users_count,
        completed_count::integer as completed_count,
        failed_count::integer as failed_count,
        abandoned_count::integer as abandoned_count,
        in_progress_count::integer as in_progress_count,
        round(
            completed_count::numeric / nullif(completed_count + failed_count + abandoned_count, 0), 4
        )::numeric(5, 4) as completion_rate,
        round(median_minutes_to_complete::numeric, 1)::numeric(12, 1) as median_minutes_to_complete
    from joined
)

select * from final
