with

source as (
    select * from {{ source('app', 'moderation_cases') }}
),

renamed as (
    select
        id as case_id,
        target_type,
        target_id,
        opened_by,
        status as case_status,
        severity,
        report_count,
        screen_score,
        opened_at,
        closed_at,
        closing_action_id
    from source
)

select * from renamed
