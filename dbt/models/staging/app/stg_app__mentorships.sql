with

source as (
    select * from {{ source('app', 'mentorships') }}
),

renamed as (
    select
        id as mentorship_id,
        request_id,
        mentor_id as mentor_user_id,
        mentee_id as mentee_user_id,
        region_code::text as region_code,
        status as mentorship_status,
        starts_on as starts_on_date,
        ends_on as ends_on_date,
        ended_at
    from source
)

select * from renamed
