with

source as (
    select * from {{ source('app', 'certification_reviews') }}
),

renamed as (
    select
        id as review_id,
        submission_id,
        reviewer_id as reviewer_user_id,
        decision,
        tier::integer as approved_tier,
        created_at as reviewed_at
    from source
)

select * from renamed
