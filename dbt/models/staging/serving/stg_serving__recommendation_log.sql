with

source as (
    select * from {{ source('serving', 'recommendation_log') }}
),

renamed as (
    select
        user_id,
        mission_id,
        first_recommended_at,
        rank::integer as recommendation_rank,
        score,
        engine
    from source
)

select * from renamed
