-- GENERATED from dbt/badges.yml by `python -m core.badges compile` (core/badges.py): do not edit.
-- One row per user and badge earned: when the rule was first satisfied (the time of the fact that
-- made its measure reach the threshold) and the measure over all qualifying facts (computed_at:
-- when this table was built, so awards issued later by the API are compared on the next build).
-- Built after the model its relationships test reads (a subset build runs that test with this
-- model, never before it exists: assets/warehouse/assets.py):
-- depends_on: {{ ref('dim_user') }}
with

events as (
    select * from {{ ref('stg_raw__activity_events') }}
),

missions as (
    select
        mission_id,
        mission_type,
        region_code
    from {{ ref('stg_app__missions') }}
),

regions as (
    select
        region_code,
        sido_code,
        is_decline_area
    from {{ ref('dim_region') }}
),

stay_days_facts as (
    select
        user_id,
        region_code || ':' || stay_date::text as fact_id,
        stay_reached_at as fact_at,
        region_code,
        sido_code,
        is_decline_area,
        stay_date,
        minutes_present
    from {{ ref('int_stay_days__summed') }}
    where is_stay_day
),

events_facts as (
    select
        events.event_id::text as fact_id,
        events.user_id,
        events.occurred_at as fact_at,
        events.event_type,
        events.mission_id,
        missions.mission_type,
        coalesce(events.region_code, missions.region_code)::text as region_code,
        regions.sido_code::text as sido_code,
        coalesce(regions.is_decline_area, false) as is_decline_area,
        coalesce(events.payload ->> 'accepted' = 'true', false) as is_accepted,
        case
            when jsonb_typeof(events.payload -> 'hours') = 'number'
                then least(greatest((events.payload ->> 'hours')::numeric, 0), 12)
        end as hours
    from events
    left join missions on events.mission_id = missions.mission_id
    left join regions on coalesce(events.region_code, missions.region_code) = regions.region_code
),

badges as (
    select * from (
        values
        ('first_checkin', '첫 방문 인증', 'First verified visit', 'bronze', 1, 20, 'events'),
        ('first_mission', '첫 미션 완료', 'First mission completed', 'bronze', 1, 20, 'events'),
        ('first_skill_mission', '첫 재능기부', 'First skill donation', 'bronze', 1, 20, 'events'),
        ('learner_5', '지역 공부왕', 'Region scholar', 'bronze', 1, 20, 'events'),
        ('decline_area_5', '인구감소지역 지킴이', 'Guardian of declining regions', 'silver', 2, 50, 'events'),
        ('three_sido', '세 지역 탐방', 'Three provinces explored', 'silver', 2, 50, 'events'),
        ('busy_week', '알찬 한 주', 'A full week', 'silver', 2, 50, 'events'),
        ('volunteer_10h', '봉사 10시간', 'Ten volunteer hours', 'silver', 2, 50, 'events'),
        ('first_stay_day', '첫 체류일', 'First stay day', 'bronze', 1, 20, 'stay_days'),
        ('stay_30_days_one_region', '두 번째 고향', 'A second hometown', 'gold', 3, 150, 'stay_days')
    ) as declared (badge_id, badge_name_ko, badge_name_en, tier, tier_level, bonus_points, rule_source)
),

badge_first_checkin_facts as (
    -- first_checkin: First verified visit
    select
        user_id,
        fact_id,
        fact_at,
        ('')::text as group_key,
        (1)::numeric as amount
    from events_facts
    where
        event_type in ('checkin', 'qr_scanned')
        and is_accepted is true
),

badge_first_checkin_running as (
    select
        user_id,
        fact_at,
        sum(amount) over (
            partition by user_id, group_key
            order by fact_at, fact_id
            rows between unbounded preceding and current row
        ) as running_value,
        sum(amount) over (partition by user_id, group_key) as group_total
    from badge_first_checkin_facts
),

badge_first_checkin as (
    select
        user_id,
        'first_checkin'::text as badge_id,
        min(fact_at) filter (where running_value >= 1) as awarded_at,
        max(group_total) filter (where running_value >= 1) as evidence_count
    from badge_first_checkin_running
    group by user_id
    having bool_or(running_value >= 1)
),

badge_first_mission_facts as (
    -- first_mission: First mission completed
    select
        user_id,
        fact_id,
        fact_at,
        ('')::text as group_key,
        (1)::numeric as amount
    from events_facts
    where
        event_type = 'mission_completed'
),

badge_first_mission_running as (
    select
        user_id,
        fact_at,
        sum(amount) over (
            partition by user_id, group_key
            order by fact_at, fact_id
            rows between unbounded preceding and current row
        ) as running_value,
        sum(amount) over (partition by user_id, group_key) as group_total
    from badge_first_mission_facts
),

badge_first_mission as (
    select
        user_id,
        'first_mission'::text as badge_id,
        min(fact_at) filter (where running_value >= 1) as awarded_at,
        max(group_total) filter (where running_value >= 1) as evidence_count
    from badge_first_mission_running
    group by user_id
    having bool_or(running_value >= 1)
),

badge_first_skill_mission_facts as (
    -- first_skill_mission: First skill donation
    select
        user_id,
        fact_id,
        fact_at,
        ('')::text as group_key,
        (1)::numeric as amount
    from events_facts
    where
        event_type = 'mission_completed'
        and mission_type = 'skill'
),

badge_first_skill_mission_running as (
    select
        user_id,
        fact_at,
        sum(amount) over (
            partition by user_id, group_key
            order by fact_at, fact_id
            rows between unbounded preceding and current row
        ) as running_value,
        sum(amount) over (partition by user_id, group_key) as group_total
    from badge_first_skill_mission_facts
),

badge_first_skill_mission as (
    select
        user_id,
        'first_skill_mission'::text as badge_id,
        min(fact_at) filter (where running_value >= 1) as awarded_at,
        max(group_total) filter (where running_value >= 1) as evidence_count
    from badge_first_skill_mission_running
    group by user_id
    having bool_or(running_value >= 1)
),

badge_learner_5_facts as (
    -- learner_5: Region scholar
    select
        user_id,
        fact_id,
        fact_at,
        ('')::text as group_key,
        (case
            when row_number() over (
                partition by user_id, '', mission_id
                order by fact_at, fact_id
            ) = 1 then 1
            else 0
        end)::numeric as amount
    from events_facts
    where
        event_type = 'mission_completed'
        and mission_type = 'learning'
        and mission_id is not null
),

badge_learner_5_running as (
    select
        user_id,
        fact_at,
        sum(amount) over (
            partition by user_id, group_key
            order by fact_at, fact_id
            rows between unbounded preceding and current row
        ) as running_value,
        sum(amount) over (partition by user_id, group_key) as group_total
    from badge_learner_5_facts
),

badge_learner_5 as (
    select
        user_id,
        'learner_5'::text as badge_id,
        min(fact_at) filter (where running_value >= 5) as awarded_at,
        max(group_total) filter (where running_value >= 5) as evidence_count
    from badge_learner_5_running
    group by user_id
    having bool_or(running_value >= 5)
),

badge_decline_area_5_facts as (
    -- decline_area_5: Guardian of declining regions
    select
        user_id,
        fact_id,
        fact_at,
        ('')::text as group_key,
        (case
            when row_number() over (
                partition by user_id, '', mission_id
                order by fact_at, fact_id
            ) = 1 then 1
            else 0
        end)::numeric as amount
    from events_facts
    where
        event_type = 'mission_completed'
        and is_decline_area is true
        and mission_id is not null
),

badge_decline_area_5_running as (
    select
        user_id,
        fact_at,
        sum(amount) over (
            partition by user_id, group_key
            order by fact_at, fact_id
            rows between unbounded preceding and current row
        ) as running_value,
        sum(amount) over (partition by user_id, group_key) as group_total
    from badge_decline_area_5_facts
),

badge_decline_area_5 as (
    select
        user_id,
        'decline_area_5'::text as badge_id,
        min(fact_at) filter (where running_value >= 5) as awarded_at,
        max(group_total) filter (where running_value >= 5) as evidence_count
    from badge_decline_area_5_running
    group by user_id
    having bool_or(running_value >= 5)
),

badge_three_sido_facts as (
    -- three_sido: Three provinces explored
    select
        user_id,
        fact_id,
        fact_at,
        ('')::text as group_key,
        (case
            when row_number() over (
                partition by user_id, '', sido_code
                order by fact_at, fact_id
            ) = 1 then 1
            else 0
        end)::numeric as amount
    from events_facts
    where
        event_type = 'mission_completed'
        and sido_code is not null
),

badge_three_sido_running as (
    select
        user_id,
        fact_at,
        sum(amount) over (
            partition by user_id, group_key
            order by fact_at, fact_id
            rows between unbounded preceding and current row
        ) as running_value,
        sum(amount) over (partition by user_id, group_key) as group_total
    from badge_three_sido_facts
),

badge_three_sido as (
    select
        user_id,
        'three_sido'::text as badge_id,
        min(fact_at) filter (where running_value >= 3) as awarded_at,
        max(group_total) filter (where running_value >= 3) as evidence_count
    from badge_three_sido_running
    group by user_id
    having bool_or(running_value >= 3)
),

badge_busy_week_facts as (
    -- busy_week: A full week
    select
        user_id,
        fact_id,
        fact_at,
        ('')::text as group_key,
        (case
            when row_number() over (
                partition by user_id, '', mission_id
                order by fact_at, fact_id
            ) = 1 then 1
            else 0
        end)::numeric as amount
    from events_facts
    where
        event_type = 'mission_completed'
        and mission_id is not null
),

badge_busy_week_running as (
    select
        user_id,
        fact_at,
        sum(amount) over (
            partition by user_id, group_key
            order by fact_at
            range between interval '7 days' preceding and current row
        ) as running_value,
        sum(amount) over (partition by user_id, group_key) as group_total
    from badge_busy_week_facts
),

badge_busy_week as (
    select
        user_id,
        'busy_week'::text as badge_id,
        min(fact_at) filter (where running_value >= 3) as awarded_at,
        max(group_total) filter (where running_value >= 3) as evidence_count
    from badge_busy_week_running
    group by user_id
    having bool_or(running_value >= 3)
),

badge_volunteer_10h_facts as (
    -- volunteer_10h: Ten volunteer hours
    select
        user_id,
        fact_id,
        fact_at,
        ('')::text as group_key,
        (coalesce(hours, 0))::numeric as amount
    from events_facts
    where
        event_type = 'hours_confirmed'
),

badge_volunteer_10h_running as (
    select
        user_id,
        fact_at,
        sum(amount) over (
            partition by user_id, group_key
            order by fact_at, fact_id
            rows between unbounded preceding and current row
        ) as running_value,
        sum(amount) over (partition by user_id, group_key) as group_total
    from badge_volunteer_10h_facts
),

badge_volunteer_10h as (
    select
        user_id,
        'volunteer_10h'::text as badge_id,
        min(fact_at) filter (where running_value >= 10) as awarded_at,
        max(group_total) filter (where running_value >= 10) as evidence_count
    from badge_volunteer_10h_running
    group by user_id
    having bool_or(running_value >= 10)
),

badge_first_stay_day_facts as (
    -- first_stay_day: First stay day
    select
        user_id,
        fact_id,
        fact_at,
        ('')::text as group_key,
        (1)::numeric as amount
    from stay_days_facts
    where
        true
),

badge_first_stay_day_running as (
    select
        user_id,
        fact_at,
        sum(amount) over (
            partition by user_id, group_key
            order by fact_at, fact_id
            rows between unbounded preceding and current row
        ) as running_value,
        sum(amount) over (partition by user_id, group_key) as group_total
    from badge_first_stay_day_facts
),

badge_first_stay_day as (
    select
        user_id,
        'first_stay_day'::text as badge_id,
        min(fact_at) filter (where running_value >= 1) as awarded_at,
        max(group_total) filter (where running_value >= 1) as evidence_count
    from badge_first_stay_day_running
    group by user_id
    having bool_or(running_value >= 1)
),

badge_stay_30_days_one_region_facts as (
    -- stay_30_days_one_region: A second hometown
    select
        user_id,
        fact_id,
        fact_at,
        (region_code)::text as group_key,
        (1)::numeric as amount
    from stay_days_facts
    where
        region_code is not null
),

badge_stay_30_days_one_region_running as (
    select
        user_id,
        fact_at,
        sum(amount) over (
            partition by user_id, group_key
            order by fact_at, fact_id
            rows between unbounded preceding and current row
        ) as running_value,
        sum(amount) over (partition by user_id, group_key) as group_total
    from badge_stay_30_days_one_region_facts
),

badge_stay_30_days_one_region as (
    select
        user_id,
        'stay_30_days_one_region'::text as badge_id,
        min(fact_at) filter (where running_value >= 30) as awarded_at,
        max(group_total) filter (where running_value >= 30) as evidence_count
    from badge_stay_30_days_one_region_running
    group by user_id
    having bool_or(running_value >= 30)
),

awards as (
    select
        user_id,
        badge_id,
        awarded_at,
        evidence_count
    from badge_first_checkin
    union all
    select
        user_id,
        badge_id,
        awarded_at,
        evidence_count
    from badge_first_mission
    union all
    select
        user_id,
        badge_id,
        awarded_at,
        evidence_count
    from badge_first_skill_mission
    union all
    select
        user_id,
        badge_id,
        awarded_at,
        evidence_count
    from badge_learner_5
    union all
    select
        user_id,
        badge_id,
        awarded_at,
        evidence_count
    from badge_decline_area_5
    union all
    select
        user_id,
        badge_id,
        awarded_at,
        evidence_count
    from badge_three_sido
    union all
    select
        user_id,
        badge_id,
        awarded_at,
        evidence_count
    from badge_busy_week
    union all
    select
        user_id,
        badge_id,
        awarded_at,
        evidence_count
    from badge_volunteer_10h
    union all
    select
        user_id,
        badge_id,
        awarded_at,
        evidence_count
    from badge_first_stay_day
    union all
    select
        user_id,
        badge_id,
        awarded_at,
        evidence_count
    from badge_stay_30_days_one_region
),

final as (
    select
        {{ pseudonymize('awards.user_id') }}::text as user_key,
        awards.badge_id::text as badge_id,
        badges.badge_name_ko::text as badge_name_ko,
        badges.badge_name_en::text as badge_name_en,
        badges.tier::text as tier,
        badges.tier_level::smallint as tier_level,
        badges.bonus_points::integer as bonus_points,
        badges.rule_source::text as rule_source,
        awards.awarded_at::timestamptz as awarded_at,
        awards.evidence_count::numeric(14, 2) as evidence_count,
        now()::timestamptz as computed_at
    from awards
    inner join badges on awards.badge_id = badges.badge_id
)

select * from final
