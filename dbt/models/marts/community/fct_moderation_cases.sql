-- One row per moderation case: what was under review, who opened it (reports or the screen), how bad
-- it looked, how it was closed and how long it took; and whether the decision was appealed and
-- overturned.
with

cases as (
    select * from {{ ref('stg_app__moderation_cases') }}
),

actions as (
    select * from {{ ref('stg_app__moderation_actions') }}
),

appeals as (
    select * from {{ ref('stg_app__appeals') }}
),

final as (
    select
        cases.case_id,
        cases.target_type,
        cases.opened_by,
        cases.case_status,
        cases.severity,
        cases.report_count,
        cases.screen_score,
        cases.opened_at,
        cases.closed_at,
        actions.action_kind as closing_action,
        actions.report_category,
        round(
            (extract(epoch from cases.closed_at - cases.opened_at) / 60)::numeric, 1
        )::double precision as minutes_to_close,
        appeals.appeal_id is not null as is_appealed,
        coalesce(appeals.appeal_status = 'overturned', false) as is_overturned
    from cases
    left join actions on cases.closing_action_id = actions.action_id
    left join appeals on actions.action_id = appeals.action_id
)

select * from final
