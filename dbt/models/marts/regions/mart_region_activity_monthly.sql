-- Activity per region and calendar month (Asia/Seoul). People active and check-ins come from the
-- events (the event's region, else its mission's); the funnel comes from the attempts (the
-- mission's region): attempts started in the month, and attempts that ended in the month by
-- outcome. completion_rate = completed ÷ (completed + failed + abandoned) of those that ended.
-- Regions with no activity in a month have no row. is_small_cell flags rows with fewer than 5
-- active people: DESIGN.md says such cells are suppressed in statistics that leave the platform.
-- Built after the models its relationships tests read (a subset build runs those tests with this
-- model, never before it exists: assets/warehouse/assets.py):
-- depends_on: {{ ref('dim_region') }}
with

events as (
    select * from {{ ref('fct_activity_events') }}
),

attempts as (
    select * from {{ ref('fct_mission_attempts') }}
),

event_months as (
    select
        region_code,
        {{ local_month('occurred_at') }} as activity_month,
        count(distinct user_key) as active_users_count,
        count(*) filter (
            where event_type = 'checkin' and (payload ->> 'accepted') is distinct from 'false'
        ) as checkins_count,
        count(*) filter (
            where event_type = 'checkin' and (payload ->> 'accepted') = 'false'
        ) as rejected_checkins_count
    from events
    where region_code is not null
    group by region_code, {{ local_month('occurred_at') }}
),

started_months as (
    select
        region_code,
        {{ local_month('enrolled_at') }} as activity_month,
        count(*) as enrolments_count
    from attempts
    where region_code is not null
    group by region_code, {{ local_month('enrolled_at') }}
),

ended_months as (
    select
        region_code,
        {{ local_month('ended_at') }} as activity_month,
        count(*) filter (where outcome = 'completed') as completions_count,
        count(*) filter (where outcome = 'failed') as failures_count,
        count(*) filter (where outcome = 'abandoned') as abandonments_count
    from attempts
    where region_code is not null and ended_at is not null
    group by region_code, {{ local_month('ended_at') }}
),

region_months as (
    select
        region_code,
        activity_month
    from event_months
    union
    select
        region_code,
        activity_month
    from started_months
    union
    select
        region_code,
        activity_month
    from ended_months
),

joined as (
    select
        region_months.region_code,
        region_months.activity_month,
        coalesce(event_months.active_users_count, 0) as active_users_count,
        coalesce(started_months.enrolments_count, 0) as enrolments_count,
        coalesce(ended_months.completions_count, 0) as completions_count,
        coalesce(ended_months.failures_count, 0) as failures_count,
        coalesce(ended_months.abandonments_count, 0) as abandonments_count,
        coalesce(event_months.checkins_count, 0) as checkins_count,
        coalesce(event_months.rejected_checkins_count, 0) as rejected_checkins_count
    from region_months
    left join event_months
        on
            region_months.region_code = event_months.region_code
            and region_months.activity_month = event_months.activity_month
    left join started_months
        on
            region_months.region_code = started_months.region_code
            and region_months.activity_month = started_months.activity_month
    left join ended_months
        on
            region_months.region_code = ended_months.region_code
            and region_months.activity_month = ended_months.activity_month
),

final as (
    select
        region_code::varchar(5) as region_code,
        activity_month::date as activity_month,
        active_users_count::integer as active_users_count,
        enrolments_count::integer as enrolments_count,
        completions_count::integer as completions_count,
        failures_count::integer as failures_count,
        abandonments_count::integer as abandonments_count,
        checkins_count::integer as checkins_count,
        rejected_checkins_count::integer as rejected_checkins_count,
        round(
            completions_count::numeric
            / nullif(completions_count + failures_count + abandonments_count, 0),
            4
        )::numeric(5, 4) as completion_rate,
        (active_users_count < 5)::boolean as is_small_cell
    from joined
)

select * from final
