-- One row per fact that earns points; a user's points are the sum of their rows (no counter is
-- ever incremented in place). Three rules, and only these:
--   mission_completed: the mission's points (payload.mission_points as the API recorded them, else
--     the mission's points) for the user's FIRST completion of that mission only, and no more than
--     loop_rule('daily_points_cap') mission points per user and Korean day (core.ranking applies the
--     same two rules in real time): with P the user's running total of such points that day,
--     a completion earns min(cap, P) - min(cap, P before it). Completions earning 0 have no row.
--   volunteer_hours: each host-confirmed claim, capped at loop_rule('volunteer_hours_cap') hours,
--     × loop_rule('volunteer_points_per_hour'), rounded.
--   badge_awarded: each badge's tier bonus (marts.fct_badge_awards), at the time it was earned;
--     it has no region, so it counts on the overall boards only.
-- Built after the models its relationships tests read (a subset build runs those tests with this
-- model, never before it exists: assets/warehouse/assets.py):
-- depends_on: {{ ref('dim_user') }}
with

events as (
    select * from {{ ref('stg_raw__activity_events') }}
),

attempt_events as (
    select * from {{ ref('int_activity_events__attempt_assigned') }}
),

missions as (
    select * from {{ ref('stg_app__missions') }}
),

regions as (
    select * from {{ ref('stg_raw__regions') }}
),

badge_awards as (
    select * from {{ ref('fct_badge_awards') }}
),

completions as (
    select
        events.event_id,
        events.user_id,
        events.mission_id,
        events.occurred_at,
        missions.region_code,
        coalesce(
            case
                when jsonb_typeof(events.payload -> 'mission_points') = 'number'
                    then (events.payload ->> 'mission_points')::numeric
            end,
            missions.points
        ) as nominal_points,
        row_number() over (
            partition by events.user_id, events.mission_id
            order by events.occurred_at, events.event_id
        ) as completion_no
    from events
    inner join missions on events.mission_id = missions.mission_id
    where events.event_type = 'mission_completed'
),

first_completions as (
    select
        *,
        {{ local_date('occurred_at') }} as earned_date,
        greatest(round(nominal_points), 0) as capped_nominal_points
    from completions
    where completion_no = 1
),

day_running as (
    select
        *,
        sum(capped_nominal_points) over (
            partition by user_id, earned_date
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as day_points_so_far
    from first_completions
),

mission_points as (
    select
        'mission_completed:' || day_running.event_id::text as ledger_entry_id,
        day_running.user_id,
        day_running.occurred_at,
        'mission_completed' as reason,
        least({{ loop_rule('daily_points_cap') }}, day_running.day_points_so_far)
        - least(
            {{ loop_rule('daily_points_cap') }},
            day_running.day_points_so_far - day_running.capped_nominal_points
        ) as points,
        day_running.mission_id,
        day_running.region_code,
        attempt_events.attempt_id,
        null::text as badge_id,
        day_running.event_id
    from day_running
    left join attempt_events on day_running.event_id = attempt_events.event_id
),

hour_points as (
    select
        'volunteer_hours:' || events.event_id::text as ledger_entry_id,
        events.user_id,
        events.occurred_at,
        'volunteer_hours' as reason,
        round(
            least(greatest((events.payload ->> 'hours')::numeric, 0), {{ loop_rule('volunteer_hours_cap') }})
            * {{ loop_rule('volunteer_points_per_hour') }}
        ) as points,
        events.mission_id,
        coalesce(events.region_code, missions.region_code) as region_code,
        attempt_events.attempt_id,
        null::text as badge_id,
        events.event_id
    from events
    left join missions on events.mission_id = missions.mission_id
    left join attempt_events on events.event_id = attempt_events.event_id
    where
        events.event_type = 'hours_confirmed'
        and jsonb_typeof(events.payload -> 'hours') = 'number'
),

user_points as (
    select
        ledger_entry_id,
        {{ pseudonymize('user_id') }} as user_key,
        occurred_at,
        reason,
        points,
        mission_id,
        region_code,
        attempt_id,
        badge_id,
        event_id
    from mission_points
    union all
    select
        ledger_entry_id,
        {{ pseudonymize('user_id') }} as user_key,
        occurred_at,
        reason,
        points,
        mission_id,
        region_code,
        attempt_id,
        badge_id,
        event_id
    from hour_points
),

badge_points as (
    select
        'badge_awarded:' || user_key || ':' || badge_id as ledger_entry_id,
        user_key,
        awarded_at as occurred_at,
        'badge_awarded' as reason,
        bonus_points as points,
        null::uuid as mission_id,
        null::text as region_code,
        null::text as attempt_id,
        badge_id,
        null::uuid as event_id
    from badge_awards
),

unioned as (
    select * from user_points
    union all
    select * from badge_points
),

final as (
    select
        unioned.ledger_entry_id::text as ledger_entry_id,
        unioned.user_key::text as user_key,
        unioned.occurred_at::timestamptz as occurred_at,
        {{ local_date('unioned.occurred_at') }}::date as earned_date,
        unioned.reason::text as reason,
        unioned.points::integer as points,
        unioned.mission_id::uuid as mission_id,
        unioned.region_code::varchar(5) as region_code,
        regions.sido_code::varchar(2) as sido_code,
        unioned.attempt_id::text as attempt_id,
        unioned.badge_id::text as badge_id,
        unioned.event_id::uuid as event_id
    from unioned
    left join regions on unioned.region_code = regions.region_code
    where unioned.points > 0
)

select * from final
