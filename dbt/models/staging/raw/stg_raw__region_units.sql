-- Built after the models its relationships tests read (a subset build runs those tests with this
-- model, never before it exists: assets/warehouse/assets.py):
-- depends_on: {{ ref('stg_raw__regions') }}
with

source as (
    select * from {{ source('raw', 'region_units') }}
),

renamed as (
    select
        unit_code::text as unit_code,
        region_code::text as region_code,
        unit_name,
        is_general_gu
    from source
)

select * from renamed
