-- Personal data (email, name, password hash) is deliberately not selected: nothing downstream
-- of staging may carry it.
with

source as (
    select * from {{ source('app', 'users') }}
),

renamed as (
    select
        id as user_id,
        user_type,
        roles,
        birth_year::integer as birth_year,
        hometown_region_code::text as hometown_region_code,
        home_region_code::text as home_region_code,
        interest_region_codes,
        skills,
        interests,
        managed_region_code::text as managed_region_code,
        is_active,
        is_demo,
        created_at as registered_at
    from source
)

select * from renamed
