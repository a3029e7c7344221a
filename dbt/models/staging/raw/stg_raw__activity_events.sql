with

source as (
    select * from {{ source('raw', 'activity_events') }}
),

renamed as (
    select
        event_id,
        user_id,
        occurred_at,
        event_type,
        mission_id,
        step_no::integer as step_no,
        region_code::text as region_code,
        lat,
        lon,
        payload,
        payload ->> 'attempt_id' as payload_attempt_id,
        payload ->> 'reason' as payload_reason,
        payload ->> 'reason_text' as payload_reason_text,
        case payload ->> 'accepted' when 'true' then true when 'false' then false end as payload_is_accepted,
        source as event_source,
        ingested_at
    from source
)

select * from renamed
