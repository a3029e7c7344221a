with

source as (
    select * from {{ source('app', 'moderation_actions') }}
),

renamed as (
    select
        id as action_id,
        case_id,
        target_type,
        action as action_kind,
        report_category,
        moderator_id as moderator_user_id,
        created_at as acted_at,
        reverted_at
    from source
)

select * from renamed
