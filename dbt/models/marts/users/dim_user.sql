-- One row per account, keyed by a pseudonymous key; no email, name or account id.
with

users as (
    select * from {{ ref('stg_app__users') }}
),

described as (
    select
        {{ pseudonymize('user_id') }} as user_key,
        user_type,
        extract(year from registered_at at time zone {{ sql_literal(var('local_time_zone')) }})::integer
        - birth_year as age_at_registration,
        hometown_region_code,
        home_region_code,
        coalesce(cardinality(interest_region_codes), 0) as interest_region_count,
        coalesce(cardinality(skills), 0) as skill_count,
        coalesce(cardinality(roles), 0) > 0 as is_staff,
        is_active,
        is_demo,
        {{ local_month('registered_at') }} as registered_month
    from users
),

final as (
    select
        user_key::text as user_key,
        user_type::text as user_type,
        (
            case
                when age_at_registration >= 0
                    then (floor(age_at_registration / 10.0) * 10)::integer::text || 's'
            end
        )::text as age_band,
        hometown_region_code::varchar(5) as hometown_region_code,
        home_region_code::varchar(5) as home_region_code,
        interest_region_count::integer as interest_region_count,
        skill_count::integer as skill_count,
        is_staff::boolean as is_staff,
        is_active::boolean as is_active,
        is_demo::boolean as is_demo,
        registered_month::date as registered_month
    from described
)

select * from final
