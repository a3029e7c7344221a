-- One row per certification submission: its skill, outcome, tier, check results and review time.
with

submissions as (
    select * from {{ ref('stg_app__certification_submissions') }}
),

checks as (
    select * from {{ ref('int_certification_checks__aggregated') }}
),

latest_review as (
    select distinct on (submission_id)
        submission_id,
        decision,
        approved_tier,
        reviewed_at
    from {{ ref('stg_app__certification_reviews') }}
    order by submission_id, reviewed_at desc
),

final as (
    select
        submissions.submission_id,
        submissions.skill,
        submissions.status,
        submissions.is_resubmission,
        submissions.risk_score,
        submissions.submitted_at,
        submissions.checked_at,
        latest_review.reviewed_at,
        latest_review.decision,
        latest_review.approved_tier,
        coalesce(checks.check_count, 0)::bigint as check_count,
        coalesce(checks.fail_count, 0)::bigint as check_fail_count,
        coalesce(checks.warn_count, 0)::bigint as check_warn_count,
        coalesce(checks.duplicate_fail_count, 0)::bigint as duplicate_fail_count,
        extract(epoch from latest_review.reviewed_at - submissions.submitted_at)::double precision
        / 60.0 as review_minutes,
        {{ local_month('submissions.submitted_at') }} as submitted_month
    from submissions
    left join checks on submissions.submission_id = checks.submission_id
    left join latest_review on submissions.submission_id = latest_review.submission_id
)

select * from final
