-- Empty houses of all housing types ('계') in each region's latest survey year.
with

empty_houses as (
    select * from {{ ref('stg_raw__empty_houses') }}
),

all_types as (
    select
        region_code,
        survey_year,
        empty_houses_count,
        row_number() over (partition by region_code order by survey_year desc) as recency
    from empty_houses
    where housing_type = '계'
),

latest as (
    select
        region_code,
        survey_year as empty_houses_year,
        empty_houses_count
    from all_types
    where recency = 1
)

select * from latest
