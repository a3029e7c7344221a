-- 생활인구 stay days per 시군구 and month, in the unit Statistics Korea uses: people who stayed 3
-- hours or more in a day, once or more in the month (stay_users_count), and the stay days they
-- spent. Regions and months without presence have no row. is_small_cell flags fewer than 5 people
-- (DESIGN.md: such cells are suppressed in statistics that leave the platform).
with

stay_days as (
    select * from {{ ref('fct_stay_days') }}
),

monthly as (
    select
        region_code,
        stay_month,
        count(distinct user_key) filter (where is_stay_day) as stay_users_count,
        count(*) filter (where is_stay_day) as stay_days_count,
        count(distinct user_key) as present_users_count,
        sum(minutes_present) as minutes_present,
        sum(minutes_present) filter (where is_stay_day) as stay_minutes_present
    from stay_days
    group by region_code, stay_month
),

final as (
    select
        region_code::varchar(5) as region_code,
        stay_month::date as stay_month,
        stay_users_count::integer as stay_users_count,
        stay_days_count::integer as stay_days_count,
        present_users_count::integer as present_users_count,
        round(minutes_present / 60.0, 1)::numeric(12, 1) as hours_present,
        round(coalesce(stay_minutes_present, 0) / 60.0, 1)::numeric(12, 1) as stay_hours_present,
        (stay_users_count < 5)::boolean as is_small_cell
    from monthly
)

select * from final
