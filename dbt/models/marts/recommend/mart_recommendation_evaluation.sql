-- The offline evaluation per run, user segment and method, with each method's nDCG@10 beside the
-- popularity and item-kNN baselines of the same run and segment (the targets of issue 4 are ratios).
with

evaluation as (
    select * from {{ ref('stg_serving__recommendation_evaluation') }}
),

baselines as (
    select
        run_at,
        segment,
        max(ndcg_at_10) filter (where ranking_method = 'popularity') as popularity_ndcg,
        max(ndcg_at_10) filter (where ranking_method = 'item_knn') as item_knn_ndcg
    from evaluation
    group by run_at, segment
),

final as (
    select
        evaluation.evaluation_id::bigint as evaluation_id,
        evaluation.run_at::timestamptz as run_at,
        evaluation.segment::text as segment,
        evaluation.ranking_method::text as ranking_method,
        evaluation.ndcg_at_10::double precision as ndcg_at_10,
        evaluation.recall_at_10::double precision as recall_at_10,
        evaluation.coverage::double precision as coverage,
        evaluation.users_count::integer as users_count,
        evaluation.heldout_count::integer as heldout_count,
        evaluation.cutoff_at::timestamptz as cutoff_at,
        evaluation.candidates_count::integer as candidates_count,
        evaluation.engine::text as engine,
        (evaluation.ndcg_at_10 / nullif(baselines.popularity_ndcg, 0))::double precision as ndcg_vs_popularity,
        (evaluation.ndcg_at_10 / nullif(baselines.item_knn_ndcg, 0))::double precision as ndcg_vs_item_knn,
        (evaluation.run_at = max(evaluation.run_at) over ())::boolean as is_latest_run
    from evaluation
    left join baselines
        on
            evaluation.run_at = baselines.run_at
            and evaluation.segment = baselines.segment
)

select * from final
