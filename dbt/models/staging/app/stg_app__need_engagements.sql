with

source as (
    select * from {{ source('app', 'need_engagements') }}
),

renamed as (
    select
        id as engagement_id,
        need_id,
        user_id,
        kind as engagement_kind,
        status as engagement_status,
        created_at,
        responded_at
    from source
)

select * from renamed
