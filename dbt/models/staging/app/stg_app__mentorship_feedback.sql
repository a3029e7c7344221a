with

source as (
    select * from {{ source('app', 'mentorship_feedback') }}
),

renamed as (
    select
        mentorship_id,
        author_id as author_user_id,
        rating
    from source
)

select * from renamed
