-- One row per submission: how many automatic checks passed, warned and failed.
with

checks as (
    select * from {{ ref('stg_app__certification_checks') }}
),

aggregated as (
    select
        submission_id,
        count(*) as check_count,
        count(*) filter (where check_status = 'pass') as pass_count,
        count(*) filter (where check_status = 'warn') as warn_count,
        count(*) filter (where check_status = 'fail') as fail_count,
        count(*) filter (where check_status = 'fail' and check_name = 'duplicate') as duplicate_fail_count
    from checks
    group by submission_id
)

select * from aggregated
