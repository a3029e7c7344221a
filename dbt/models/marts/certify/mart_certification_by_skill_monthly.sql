-- Certification throughput, pass rate and review time per skill and month of submission.
-- pass_rate = approved ÷ decided (null while nothing is decided).
with

submissions as (
    select * from {{ ref('fct_certification_submissions') }}
),

final as (
    select
        skill,
        submitted_month,
        count(*)::bigint as submitted_count,
        count(*) filter (where decision is not null)::bigint as decided_count,
        count(*) filter (where decision = 'approved')::bigint as approved_count,
        count(*) filter (where decision = 'rejected')::bigint as rejected_count,
        count(*) filter (where duplicate_fail_count > 0)::bigint as flagged_duplicate_count,
        (count(*) filter (where decision = 'approved'))::double precision
        / nullif(count(*) filter (where decision is not null), 0) as pass_rate,
        percentile_cont(0.5) within group (order by review_minutes) as median_review_minutes
    from submissions
    group by skill, submitted_month
)

select * from final
