with

source as (
    select * from {{ source('app', 'mentor_profiles') }}
),

renamed as (
    select
        user_id as mentor_user_id,
        skills,
        region_codes,
        capacity,
        is_accepting
    from source
)

select * from renamed
