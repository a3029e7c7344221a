-- One row per user, 시군구 and Korean day with verified presence, and whether it is a stay day
-- (생활인구: 3 hours or more in the 시군구 that day). Presence rules: int_presence_intervals__derived;
-- merging and cutting at midnight: int_stay_days__summed.
-- Built after the models its relationships tests read (a subset build runs those tests with this
-- model, never before it exists: assets/warehouse/assets.py):
-- depends_on: {{ ref('dim_region') }}
-- depends_on: {{ ref('dim_user') }}
-- Indexed by region and day: the reports and region pages ask one 시군구 and period at a time.
{{ config(indexes=[{'columns': ['region_code', 'stay_date']}]) }}

with

stay_days as (
    select * from {{ ref('int_stay_days__summed') }}
),

final as (
    select
        {{ pseudonymize('user_id') }}::text as user_key,
        region_code::varchar(5) as region_code,
        sido_code::varchar(2) as sido_code,
        is_decline_area::boolean as is_decline_area,
        stay_date::date as stay_date,
        date_trunc('month', stay_date)::date as stay_month,
        minutes_present::numeric(7, 1) as minutes_present,
        is_stay_day::boolean as is_stay_day,
        stay_reached_at::timestamptz as stay_reached_at,
        first_present_at::timestamptz as first_present_at,
        last_present_at::timestamptz as last_present_at
    from stay_days
)

select * from final
