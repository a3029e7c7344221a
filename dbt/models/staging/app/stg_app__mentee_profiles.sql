with

source as (
    select * from {{ source('app', 'mentee_profiles') }}
),

renamed as (
    select
        user_id as mentee_user_id,
        skills,
        region_codes
    from source
)

select * from renamed
