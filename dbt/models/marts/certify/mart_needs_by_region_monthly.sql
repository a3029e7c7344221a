-- Needs posted and filled per 시군구 and month of posting, with the median time to fill.
with

needs as (
    select * from {{ ref('fct_regional_needs') }}
),

final as (
    select
        region_code,
        posted_month,
        count(*)::bigint as posted_count,
        count(*) filter (where status = 'filled')::bigint as filled_count,
        sum(headcount)::bigint as headcount_wanted,
        sum(accepted_count)::bigint as people_accepted_count,
        percentile_cont(0.5) within group (order by hours_to_fill) as median_hours_to_fill
    from needs
    group by region_code, posted_month
)

select * from final
