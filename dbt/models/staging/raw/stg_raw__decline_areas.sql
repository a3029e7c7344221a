with

source as (
    select * from {{ source('raw', 'decline_areas') }}
),

renamed as (
    select
        region_code::text as region_code,
        category as area_category,
        sido_name,
        sgg_name,
        notice as notice_text,
        source_code,
        correction as correction_note
    from source
)

select * from renamed
