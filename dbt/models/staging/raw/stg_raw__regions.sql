with

source as (
    select * from {{ source('raw', 'regions') }}
),

renamed as (
    select
        region_code::text as region_code,
        sido_code::text as sido_code,
        sido_name,
        sgg_name,
        full_name,
        level as region_level,
        centroid_lat,
        centroid_lon,
        area_km2,
        kostat_code,
        loaded_at
    from source
)

select * from renamed
