-- One row per mentor request: where it is about, how it was answered and how fast. The region is the
-- mentorship's when the request was accepted, else the mentee's first target region, else the first
-- region the mentor knows. hours_to_answer is null while a request waits (or was withdrawn).
with

requests as (
    select * from {{ ref('stg_app__mentor_requests') }}
),

mentorships as (
    select * from {{ ref('stg_app__mentorships') }}
),

mentees as (
    select * from {{ ref('stg_app__mentee_profiles') }}
),

mentors as (
    select * from {{ ref('stg_app__mentor_profiles') }}
),

final as (
    select
        requests.request_id,
        coalesce(
            mentorships.region_code, mentees.region_codes[1], mentors.region_codes[1]
        )::varchar(5) as region_code,
        requests.request_status,
        requests.match_score,
        requests.requested_at,
        requests.responded_at,
        round(
            (extract(epoch from requests.responded_at - requests.requested_at) / 3600)::numeric, 2
        )::double precision as hours_to_answer,
        requests.request_status = 'accepted' as is_accepted,
        mentorships.mentorship_id,
        mentorships.mentorship_status
    from requests
    left join mentorships on requests.request_id = mentorships.request_id
    left join mentees on requests.mentee_user_id = mentees.mentee_user_id
    left join mentors on requests.mentor_user_id = mentors.mentor_user_id
)

select * from final
