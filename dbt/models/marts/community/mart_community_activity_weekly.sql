-- Community activity per week (Monday start, Asia/Seoul), board and region. A post counts in the week
-- it was written, whatever became of it (held_posts_count says how many the screen held); comments and
-- likes count in their own week, on their post's board and region. The region is the post's, else its
-- board's (시군구 boards); general boards without a region have a null region_code. active_users_count
-- counts distinct people who wrote, commented or liked; is_small_cell flags fewer than 5 (DESIGN.md:
-- such cells are suppressed in statistics that leave the platform).
with

boards as (
    select * from {{ ref('stg_app__boards') }}
),

posts as (
    select * from {{ ref('stg_app__posts') }}
),

comments as (
    select * from {{ ref('stg_app__comments') }}
),

likes as (
    select * from {{ ref('stg_app__post_likes') }}
),

post_places as (
    select
        posts.post_id,
        posts.board_id,
        coalesce(posts.region_code, boards.region_code) as region_code
    from posts
    inner join boards on posts.board_id = boards.board_id
),

contributions as (
    select
        posts.author_user_id as user_id,
        places.board_id,
        places.region_code,
        posts.created_at as occurred_at,
        'post' as contribution_kind,
        posts.post_status as item_status
    from posts
    inner join post_places as places on posts.post_id = places.post_id
    union all
    select
        comments.author_user_id as user_id,
        places.board_id,
        places.region_code,
        comments.created_at as occurred_at,
        'comment' as contribution_kind,
        comments.comment_status as item_status
    from comments
    inner join post_places as places on comments.post_id = places.post_id
    union all
    select
        likes.user_id,
        places.board_id,
        places.region_code,
        likes.liked_at as occurred_at,
        'like' as contribution_kind,
        null as item_status
    from likes
    inner join post_places as places on likes.post_id = places.post_id
),

dated as (
    select
        *,
        date_trunc(
            'week', occurred_at at time zone {{ sql_literal(var('local_time_zone')) }}
        )::date as activity_week_date
    from contributions
),

weekly as (
    select
        activity_week_date,
        board_id,
        region_code,
        count(*) filter (where contribution_kind = 'post') as posts_count,
        count(*) filter (
            where contribution_kind = 'post' and item_status = 'held'
        ) as held_posts_count,
        count(*) filter (
            where contribution_kind = 'post' and item_status = 'hidden'
        ) as hidden_posts_count,
        count(*) filter (where contribution_kind = 'comment') as comments_count,
        count(*) filter (where contribution_kind = 'like') as likes_count,
        count(distinct user_id) as active_users_count
    from dated
    group by activity_week_date, board_id, region_code
),

final as (
    select
        md5(
            weekly.activity_week_date::text || '|' || weekly.board_id || '|'
            || coalesce(weekly.region_code, '')
        ) as activity_key,
        weekly.activity_week_date,
        weekly.board_id,
        boards.board_kind,
        boards.board_name,
        weekly.region_code::varchar(5) as region_code,
        coalesce(left(weekly.region_code, 2), boards.sido_code)::varchar(2) as sido_code,
        weekly.posts_count,
        weekly.held_posts_count,
        weekly.hidden_posts_count,
        weekly.comments_count,
        weekly.likes_count,
        weekly.active_users_count,
        weekly.active_users_count < 5 as is_small_cell
    from weekly
    inner join boards on weekly.board_id = boards.board_id
)

select * from final
