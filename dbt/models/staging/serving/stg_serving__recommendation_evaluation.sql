with

source as (
    select * from {{ source('serving', 'recommendation_evaluation') }}
),

renamed as (
    select
        id as evaluation_id,
        run_at,
        segment,
        method as ranking_method,
        ndcg_at_10,
        recall_at_10,
        coverage,
        users_count,
        heldout_count,
        cutoff_at,
        candidates_count,
        engine
    from source
)

select * from renamed
