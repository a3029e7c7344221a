with

source as (
    select * from {{ source('app', 'appeals') }}
),

renamed as (
    select
        id as appeal_id,
        action_id,
        status as appeal_status,
        created_at as appealed_at,
        decided_at
    from source
)

select * from renamed
