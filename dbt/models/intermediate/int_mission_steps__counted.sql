-- How many steps each mission has (missions without steps are absent).
with

steps as (
    select * from {{ ref('stg_app__mission_steps') }}
),

counted as (
    select
        mission_id,
        count(*)::integer as step_count,
        max(step_no) as last_step_no
    from steps
    group by mission_id
)

select * from counted
