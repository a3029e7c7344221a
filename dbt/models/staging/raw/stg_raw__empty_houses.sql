with

source as (
    select * from {{ source('raw', 'empty_houses') }}
),

renamed as (
    select
        region_code::text as region_code,
        year::integer as survey_year,
        housing_type,
        empty_count as empty_houses_count
    from source
)

select * from renamed
