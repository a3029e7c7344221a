with

source as (
    select * from {{ source('app', 'post_likes') }}
),

renamed as (
    select
        post_id,
        user_id,
        created_at as liked_at
    from source
)

select * from renamed
