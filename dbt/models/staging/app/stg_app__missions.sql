with

source as (
    select * from {{ source('app', 'missions') }}
),

renamed as (
    select
        id as mission_id,
        title,
        summary,
        mission_type,
        status,
        region_code::text as region_code,
        place_name,
        lat,
        lon,
        radius_m,
        source_kind,
        source_ref,
        skills,
        tags,
        capacity,
        points,
        expected_minutes,
        starts_at,
        ends_at,
        created_by as created_by_user_id,
        created_at,
        updated_at
    from source
)

select * from renamed
