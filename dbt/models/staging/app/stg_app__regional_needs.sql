with

source as (
    select * from {{ source('app', 'regional_needs') }}
),

renamed as (
    select
        id as need_id,
        region_code::text as region_code,
        title,
        skill,
        tier_wanted::integer as tier_wanted,
        place_name,
        lat,
        lon,
        starts_on as start_date,
        ends_on as end_date,
        headcount::integer as headcount,
        status,
        posted_by as posted_by_user_id,
        created_at
    from source
)

select * from renamed
