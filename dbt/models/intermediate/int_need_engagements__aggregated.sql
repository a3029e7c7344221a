-- One row per need with engagements: invitations, applications, acceptances, and when the last
-- acceptance was given (for a filled need, the moment it was filled).
with

engagements as (
    select * from {{ ref('stg_app__need_engagements') }}
),

aggregated as (
    select
        need_id,
        count(*) filter (where engagement_kind = 'invite') as invitation_count,
        count(*) filter (where engagement_kind = 'apply') as application_count,
        count(*) filter (where engagement_status = 'accepted') as accepted_count,
        max(responded_at) filter (where engagement_status = 'accepted') as last_accepted_at
    from engagements
    group by need_id
)

select * from aggregated
