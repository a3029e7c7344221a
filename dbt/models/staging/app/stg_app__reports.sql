with

source as (
    select * from {{ source('app', 'reports') }}
),

renamed as (
    select
        id as report_id,
        reporter_id as reporter_user_id,
        target_type,
        target_id,
        category as report_category,
        case_id,
        created_at as reported_at
    from source
)

select * from renamed
