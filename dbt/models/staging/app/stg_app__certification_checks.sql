with

source as (
    select * from {{ source('app', 'certification_checks') }}
),

renamed as (
    select
        id as check_id,
        submission_id,
        evidence_id,
        name as check_name,
        status as check_status,
        created_at as checked_at
    from source
)

select * from renamed
