-- The boundary of each 시·군·자치구 as loaded (GeoJSON MultiPolygon, EPSG:4326), for maps.
-- Kept apart from stg_raw__regions so that models without a map never carry the polygons.
with

source as (
    select * from {{ source('raw', 'regions') }}
),

renamed as (
    select
        region_code::text as region_code,
        boundary_geojson
    from source
)

select * from renamed
