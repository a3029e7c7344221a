with

source as (
    select * from {{ source('app', 'comments') }}
),

renamed as (
    select
        id as comment_id,
        post_id,
        parent_id as parent_comment_id,
        author_id as author_user_id,
        status as comment_status,
        screen_score,
        created_at
    from source
)

select * from renamed
