-- Mentor matching outcomes per region (now): mentors who know the region, requests and how they were
-- answered (acceptance_rate = accepted ÷ answered), the median time to first answer, mentorships active
-- and ended, and the mean feedback rating. Regions without mentors or requests have no row.
-- is_small_cell flags fewer than 5 requests (suppressed in statistics that leave the platform).
with

requests as (
    select * from {{ ref('fct_mentor_requests') }}
),

mentorships as (
    select * from {{ ref('stg_app__mentorships') }}
),

feedback as (
    select * from {{ ref('stg_app__mentorship_feedback') }}
),

mentors as (
    select * from {{ ref('stg_app__mentor_profiles') }}
),

mentor_regions as (
    select
        known.region_code::text as region_code,
        count(distinct mentors.mentor_user_id) as mentors_count,
        count(distinct mentors.mentor_user_id) filter (
            where mentors.is_accepting
        ) as accepting_mentors_count
    from mentors
    cross join lateral unnest(mentors.region_codes) as known (region_code)
    group by known.region_code
),

request_regions as (
    select
        region_code,
        count(*) as requests_count,
        count(*) filter (where request_status = 'accepted') as accepted_count,
        count(*) filter (where request_status = 'declined') as declined_count,
        count(*) filter (where request_status = 'pending') as pending_count,
        percentile_cont(0.5) within group (order by hours_to_answer) as median_hours_to_answer
    from requests
    where region_code is not null
    group by region_code
),

mentorship_regions as (
    select
        mentorships.region_code,
        count(distinct mentorships.mentorship_id) filter (
            where mentorships.mentorship_status = 'active'
        ) as active_mentorships_count,
        count(distinct mentorships.mentorship_id) filter (
            where mentorships.mentorship_status = 'ended'
        ) as ended_mentorships_count,
        avg(feedback.rating) as mean_feedback_rating
    from mentorships
    left join feedback on mentorships.mentorship_id = feedback.mentorship_id
    where mentorships.region_code is not null
    group by mentorships.region_code
),

regions as (
    select region_code from mentor_regions
    union
    select region_code from request_regions
    union
    select region_code from mentorship_regions
),

final as (
    select
        regions.region_code::varchar(5) as region_code,
        coalesce(mentor_regions.mentors_count, 0) as mentors_count,
        coalesce(mentor_regions.accepting_mentors_count, 0) as accepting_mentors_count,
        coalesce(request_regions.requests_count, 0) as requests_count,
        coalesce(request_regions.accepted_count, 0) as accepted_count,
        coalesce(request_regions.declined_count, 0) as declined_count,
        coalesce(request_regions.pending_count, 0) as pending_count,
        (
            request_regions.accepted_count::double precision
            / nullif(request_regions.accepted_count + request_regions.declined_count, 0)
        ) as acceptance_rate,
        request_regions.median_hours_to_answer,
        coalesce(mentorship_regions.active_mentorships_count, 0) as active_mentorships_count,
        coalesce(mentorship_regions.ended_mentorships_count, 0) as ended_mentorships_count,
        mentorship_regions.mean_feedback_rating::double precision as mean_feedback_rating,
        coalesce(request_regions.requests_count, 0) < 5 as is_small_cell
    from regions
    left join mentor_regions on regions.region_code = mentor_regions.region_code
    left join request_regions on regions.region_code = request_regions.region_code
    left join mentorship_regions on regions.region_code = mentorship_regions.region_code
)

select * from final
