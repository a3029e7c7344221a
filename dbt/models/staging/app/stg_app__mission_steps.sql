with

source as (
    select * from {{ source('app', 'mission_steps') }}
),

renamed as (
    select
        mission_id,
        step_no::integer as step_no,
        title as step_title,
        verification,
        lat,
        lon,
        radius_m
    from source
)

select * from renamed
