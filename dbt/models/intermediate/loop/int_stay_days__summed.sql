-- Presence per user, 시군구 and Korean calendar day, and whether the day is a stay day (생활인구:
-- loop_rule('stay_day_minutes') = 180 minutes or more in the 시군구 that day).
-- Overlapping intervals are merged first (time is never counted twice), then each merged interval
-- is cut at Korean midnights: an evening that runs past midnight counts on both days, each for its
-- own part. stay_reached_at is the moment the day's presence reached the threshold (the time a
-- stay-day badge is earned).
-- minutes_present is in (0, 1440] by construction: the merged islands of a user and 시군구 are
-- disjoint (intervals are collapsed per start first, so the island numbering never depends on how
-- ties are sorted) and each piece lies inside its Korean day; a day whose presence rounds to 0.0
-- minutes (the API writes a unit's proofs a microsecond apart, an interval may overrun midnight by
-- a second) is no present day and has no row.
with

intervals as (
    select * from {{ ref('int_presence_intervals__derived') }}
),

regions as (
    select * from {{ ref('stg_raw__regions') }}
),

decline_areas as (
    select * from {{ ref('stg_raw__decline_areas') }}
),

starts as (
    -- one row per start (the longest interval from it): started_at orders each user and 시군구
    -- uniquely, so the two windows below see the rows in the same order
    select
        user_id,
        region_code,
        started_at,
        max(ended_at) as ended_at
    from intervals
    where ended_at > started_at
    group by user_id, region_code, started_at
),

ordered as (
    select
        user_id,
        region_code,
        started_at,
        ended_at,
        max(ended_at) over (
            partition by user_id, region_code
            order by started_at
            rows between unbounded preceding and 1 preceding
        ) as previous_ended_at
    from starts
),

flagged as (
    select
        *,
        case when previous_ended_at is null or started_at > previous_ended_at then 1 else 0 end as starts_island
    from ordered
),

numbered as (
    select
        *,
        sum(starts_island) over (
            partition by user_id, region_code
            order by started_at
            rows between unbounded preceding and current row
        ) as island_no
    from flagged
),

islands as (
    select
        user_id,
        region_code,
        island_no,
        min(started_at) as started_at,
        max(ended_at) as ended_at
    from numbered
    group by user_id, region_code, island_no
),

day_pieces as (
    select
        islands.user_id,
        islands.region_code,
        local_days.stay_date,
        greatest(islands.started_at, local_days.day_started_at) as piece_started_at,
        least(islands.ended_at, local_days.day_ended_at) as piece_ended_at
    from islands
    cross join lateral (
        select
            local_day::date as stay_date,
            local_day::timestamp at time zone {{ sql_literal(var('local_time_zone')) }} as day_started_at,
            (local_day::date + 1)::timestamp at time zone {{ sql_literal(var('local_time_zone')) }} as day_ended_at
        from generate_series(
            {{ local_date('islands.started_at') }}::timestamp,
            {{ local_date('islands.ended_at') }}::timestamp,
            interval '1 day'
        ) as local_day
    ) as local_days
),

measured as (
    select
        *,
        extract(epoch from piece_ended_at - piece_started_at) / 60.0 as piece_minutes
    from day_pieces
    where piece_ended_at > piece_started_at
),

accumulated as (
    select
        *,
        sum(piece_minutes) over (
            partition by user_id, region_code, stay_date
            order by piece_started_at
            rows between unbounded preceding and current row
        ) as minutes_so_far
    from measured
),

daily as (
    select
        user_id,
        region_code,
        stay_date,
        sum(piece_minutes) as exact_minutes,
        min(piece_started_at) as first_present_at,
        max(piece_ended_at) as last_present_at,
        min(
            piece_started_at
            + ({{ loop_rule('stay_day_minutes') }} - (minutes_so_far - piece_minutes)) * interval '1 minute'
        ) filter (
            where minutes_so_far >= {{ loop_rule('stay_day_minutes') }}
            and minutes_so_far - piece_minutes < {{ loop_rule('stay_day_minutes') }}
        ) as stay_reached_at
    from accumulated
    group by user_id, region_code, stay_date
),

rounded as (
    select
        *,
        round(exact_minutes::numeric, 1) as minutes_present
    from daily
),

final as (
    select
        rounded.user_id,
        rounded.region_code,
        regions.sido_code,
        coalesce(decline_areas.area_category = 'decline', false) as is_decline_area,
        rounded.stay_date,
        rounded.minutes_present,
        rounded.exact_minutes >= {{ loop_rule('stay_day_minutes') }} as is_stay_day,
        rounded.stay_reached_at,
        rounded.first_present_at,
        rounded.last_present_at
    from rounded
    left join regions on rounded.region_code = regions.region_code
    left join decline_areas on rounded.region_code = decline_areas.region_code
    where rounded.minutes_present > 0
)

select * from final
