-- One row per regional need: where, what, whether it was filled, and how long that took.
with

needs as (
    select * from {{ ref('stg_app__regional_needs') }}
),

engagements as (
    select * from {{ ref('int_need_engagements__aggregated') }}
),

final as (
    select
        needs.need_id,
        needs.region_code,
        needs.skill,
        needs.tier_wanted,
        needs.headcount,
        needs.status,
        needs.created_at as posted_at,
        case when needs.status = 'filled' then engagements.last_accepted_at end as filled_at,
        coalesce(engagements.invitation_count, 0)::bigint as invitation_count,
        coalesce(engagements.application_count, 0)::bigint as application_count,
        coalesce(engagements.accepted_count, 0)::bigint as accepted_count,
        case
            when needs.status = 'filled'
                then extract(epoch from engagements.last_accepted_at - needs.created_at)::double precision / 3600.0
        end as hours_to_fill,
        {{ local_month('needs.created_at') }} as posted_month
    from needs
    left join engagements on needs.need_id = engagements.need_id
)

select * from final
