-- Places of each kind per region (places outside every boundary have no region and are left out).
with

places as (
    select * from {{ ref('stg_raw__places') }}
),

counted as (
    select
        region_code,
        count(*) filter (where place_kind = 'tourist_spot') as tourist_spot_count,
        count(*) filter (where place_kind = 'festival') as festival_count,
        count(*) filter (where place_kind = 'heritage') as heritage_count
    from places
    where region_code is not null
    group by region_code
)

select * from counted
