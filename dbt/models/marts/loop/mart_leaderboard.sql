-- Every board's standings: one row per board and user with points, from the points ledger.
-- Boards are scope × period in core.ranking's key scheme: scope `all`, `sido:<시도 code>`,
-- `sgg:<시군구 code>` (the region where the points were earned; badge bonuses have none and count
-- on `all` only) × period `all`, `w<ISO year>-<ISO week>`, `m<YYYY>-<MM>` (Korean time); board key
-- `<scope>|<period>`, e.g. `sgg:47730|w2025-48`.
-- rank is standard competition ranking ("1224"): 1 + the number of users on the board with strictly
-- more points, the rule the API applies in Redis (ZCOUNT of higher scores + 1) and in PostgreSQL.
with

ledger as (
    select * from {{ ref('fct_points_ledger') }}
),

local_times as (
    select
        user_key,
        points,
        region_code,
        sido_code,
        occurred_at at time zone {{ sql_literal(var('local_time_zone')) }} as occurred_local
    from ledger
),

scoped as (
    select
        user_key,
        points,
        occurred_local,
        'all' as scope_kind,
        null::text as scope_code
    from local_times
    union all
    select
        user_key,
        points,
        occurred_local,
        'sido' as scope_kind,
        sido_code as scope_code
    from local_times
    where sido_code is not null
    union all
    select
        user_key,
        points,
        occurred_local,
        'sgg' as scope_kind,
        region_code as scope_code
    from local_times
    where region_code is not null
),

periodised as (
    select
        user_key,
        points,
        scope_kind,
        scope_code,
        'all' as period_kind,
        'all' as period_key,
        null::date as period_start_date
    from scoped
    union all
    select
        user_key,
        points,
        scope_kind,
        scope_code,
        'week' as period_kind,
        'w' || to_char(occurred_local, 'IYYY-IW') as period_key,
        date_trunc('week', occurred_local)::date as period_start_date
    from scoped
    union all
    select
        user_key,
        points,
        scope_kind,
        scope_code,
        'month' as period_kind,
        'm' || to_char(occurred_local, 'YYYY-MM') as period_key,
        date_trunc('month', occurred_local)::date as period_start_date
    from scoped
),

summed as (
    select
        case when scope_kind = 'all' then 'all' else scope_kind || ':' || scope_code end
        || '|' || period_key as board,
        scope_kind,
        scope_code,
        period_kind,
        period_key,
        period_start_date,
        user_key,
        sum(points) as points
    from periodised
    group by scope_kind, scope_code, period_kind, period_key, period_start_date, user_key
),

ranked as (
    select
        *,
        rank() over (partition by board order by points desc) as rank,
        count(*) over (partition by board) as board_users_count
    from summed
    where points > 0
),

final as (
    select
        board::text as board,
        scope_kind::text as scope_kind,
        scope_code::text as scope_code,
        period_kind::text as period_kind,
        period_key::text as period_key,
        period_start_date::date as period_start_date,
        user_key::text as user_key,
        points::bigint as points,
        rank::integer as rank,  -- noqa: RF04
        board_users_count::integer as board_users_count
    from ranked
)

select * from final
