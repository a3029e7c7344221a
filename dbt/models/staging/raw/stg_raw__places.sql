with

source as (
    select * from {{ source('raw', 'places') }}
),

renamed as (
    select
        place_id,
        kind as place_kind,
        name as place_name,
        region_code::text as region_code,
        lat,
        lon,
        address,
        category as place_category,
        starts_on as start_date,
        ends_on as end_date
    from source
)

select * from renamed
