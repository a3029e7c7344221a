-- One row per mission with its place, skills, rewards and number of steps.
with

missions as (
    select * from {{ ref('stg_app__missions') }}
),

steps as (
    select * from {{ ref('int_mission_steps__counted') }}
),

final as (
    select
        missions.mission_id::uuid as mission_id,
        missions.title::text as title,
        missions.mission_type::text as mission_type,
        missions.status::text as status,
        missions.region_code::varchar(5) as region_code,
        missions.place_name::text as place_name,
        missions.lat::double precision as lat,
        missions.lon::double precision as lon,
        missions.source_kind::text as source_kind,
        missions.skills::text[] as skills,
        missions.capacity::integer as capacity,
        missions.points::integer as points,
        missions.expected_minutes::integer as expected_minutes,
        coalesce(steps.step_count, 0)::integer as step_count,
        missions.starts_at::timestamptz as starts_at,
        missions.ends_at::timestamptz as ends_at,
        missions.created_at::timestamptz as created_at
    from missions
    left join steps on missions.mission_id = steps.mission_id
)

select * from final
