with

source as (
    select * from {{ source('app', 'boards') }}
),

renamed as (
    select
        id as board_id,
        kind as board_kind,
        name as board_name,
        region_code::text as region_code,
        sido_code::text as sido_code,
        mission_type
    from source
)

select * from renamed
