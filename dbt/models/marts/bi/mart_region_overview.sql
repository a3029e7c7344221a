-- One row per 시·군·자치구 for the policy dashboards (Superset): identity, extinction risk and
-- decline-area status from dim_region, all-time activity from the facts, and the outline of the
-- region's largest part as a JSON ring of [lon, lat] pairs for the deck.gl polygon map (coordinates
-- rounded to 3 decimals, about 100 m, which keeps the whole map near 1 MB). Activity counts are
-- kept whole so national totals add up; is_small_cell flags regions with fewer than 5 participants,
-- and the dashboards leave those cells out (DESIGN.md: cells of fewer than 5 people are suppressed).
with

regions as (
    select * from {{ ref('dim_region') }}
),

attempts as (
    select * from {{ ref('fct_mission_attempts') }}
),

stay_days as (
    select * from {{ ref('fct_stay_days') }}
),

boundaries as (
    select * from {{ ref('stg_raw__region_boundaries') }}
),

attempt_totals as (
    select
        region_code,
        count(distinct user_key) as participants_count,
        count(*) as attempts_count,
        count(*) filter (where outcome = 'completed') as completions_count,
        count(*) filter (where outcome = 'failed') as failures_count,
        count(*) filter (where outcome = 'abandoned') as abandonments_count
    from attempts
    where region_code is not null
    group by region_code
),

stay_totals as (
    select
        region_code,
        count(distinct user_key) filter (where is_stay_day) as stay_users_count,
        count(*) filter (where is_stay_day) as stay_days_count
    from stay_days
    group by region_code
),

parts as (
    select
        boundaries.region_code,
        part.polygon -> 0 as outer_ring,
        jsonb_array_length(part.polygon -> 0) as points_count
    from boundaries
    cross join lateral jsonb_array_elements(boundaries.boundary_geojson -> 'coordinates') as part (polygon)
),

largest_parts as (
    select distinct on (region_code)
        region_code,
        outer_ring
    from parts
    order by region_code asc, points_count desc
),

outlines as (
    select
        largest_parts.region_code,
        '[' || string_agg(
            '[' || round((point.lon_lat ->> 0)::numeric, 3) || ','
            || round((point.lon_lat ->> 1)::numeric, 3) || ']',
            ',' order by point.position
        ) || ']' as outline_json
    from largest_parts
    cross join lateral jsonb_array_elements(largest_parts.outer_ring) with ordinality as point (lon_lat, position)
    group by largest_parts.region_code
),

final as (
    select
        regions.region_code,
        regions.sido_code,
        regions.sido_name,
        regions.sgg_name,
        regions.full_name,
        regions.centroid_lat,
        regions.centroid_lon,
        regions.population_total,
        regions.extinction_risk_index,
        regions.extinction_risk_class,
        regions.extinction_risk_label_ko,
        regions.extinction_risk_level,
        regions.is_decline_area,
        coalesce(attempt_totals.participants_count, 0)::integer as participants_count,
        coalesce(attempt_totals.attempts_count, 0)::integer as attempts_count,
        coalesce(attempt_totals.completions_count, 0)::integer as completions_count,
        coalesce(attempt_totals.failures_count, 0)::integer as failures_count,
        coalesce(attempt_totals.abandonments_count, 0)::integer as abandonments_count,
        coalesce(stay_totals.stay_users_count, 0)::integer as stay_users_count,
        coalesce(stay_totals.stay_days_count, 0)::integer as stay_days_count,
        round(
            1000.0 * coalesce(attempt_totals.participants_count, 0) / nullif(regions.population_total, 0), 3
        )::numeric(10, 3) as participants_per_1000_residents,
        coalesce(attempt_totals.participants_count, 0) < 5 as is_small_cell,
        outlines.outline_json
    from regions
    left join attempt_totals on regions.region_code = attempt_totals.region_code
    left join stay_totals on regions.region_code = stay_totals.region_code
    left join outlines on regions.region_code = outlines.region_code
)

select * from final
