with

source as (
    select * from {{ source('app', 'posts') }}
),

renamed as (
    select
        id as post_id,
        board_id,
        author_id as author_user_id,
        region_code::text as region_code,
        status as post_status,
        screen_score,
        screen_engine,
        created_at,
        published_at,
        status_changed_at
    from source
)

select * from renamed
