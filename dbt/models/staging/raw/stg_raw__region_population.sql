with

source as (
    select * from {{ source('raw', 'region_population') }}
),

renamed as (
    select
        region_code::text as region_code,
        year::integer as population_year,
        sex,
        age_band,
        population as population_count
    from source
)

select * from renamed
