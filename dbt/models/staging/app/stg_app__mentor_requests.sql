with

source as (
    select * from {{ source('app', 'mentor_requests') }}
),

renamed as (
    select
        id as request_id,
        mentee_id as mentee_user_id,
        mentor_id as mentor_user_id,
        status as request_status,
        match_score,
        created_at as requested_at,
        responded_at
    from source
)

select * from renamed
