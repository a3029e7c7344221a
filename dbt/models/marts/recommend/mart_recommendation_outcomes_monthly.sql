-- What the recommendations led to, per month of first recommendation and mission type: how many
-- user × mission pairs first recommended were enrolled in and completed within N days
-- (rule: fct_recommendation_followups). Counts cover every pair of the cell; the rates only the pairs
-- whose N days have passed (an open window's outcome is not known yet), null while none has.
with

followups as (
    select * from {{ ref('fct_recommendation_followups') }}
),

final as (
    select
        recommended_month,
        mission_type,
        max(followup_days)::integer as followup_days,
        count(*)::bigint as recommended_count,
        count(distinct user_key)::bigint as users_count,
        count(*) filter (where is_enrolled)::bigint as enrolled_count,
        count(*) filter (where is_completed)::bigint as completed_count,
        count(*) filter (where is_window_open)::bigint as open_window_count,
        count(*) filter (where is_enrolled and recommendation_rank <= 5)::bigint as enrolled_top5_count,
        (
            (count(*) filter (where is_enrolled and not is_window_open))::double precision
            / nullif(count(*) filter (where not is_window_open), 0)
        )::double precision as enrolment_rate,
        (
            (count(*) filter (where is_completed and not is_window_open))::double precision
            / nullif(count(*) filter (where not is_window_open), 0)
        )::double precision as completion_rate,
        percentile_cont(0.5) within group (order by days_to_enrol)::double precision as median_days_to_enrol,
        (count(distinct user_key) < 5)::boolean as is_small_cell
    from followups
    group by recommended_month, mission_type
)

select * from final
