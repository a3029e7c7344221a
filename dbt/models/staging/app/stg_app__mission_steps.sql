-- Built after the models its relationships tests read (a subset build runs those tests with this
-- model, never before it exists: assets/warehouse/assets.py):
-- depends_on: {{ ref('stg_app__missions') }}
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
