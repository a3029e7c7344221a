with

source as (
    select * from {{ source('app', 'certification_submissions') }}
),

renamed as (
    select
        id as submission_id,
        user_id,
        skill,
        status,
        risk_score,
        resubmission_of is not null as is_resubmission,
        created_at as submitted_at,
        checked_at,
        decided_at
    from source
)

select * from renamed
