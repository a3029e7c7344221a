-- One row per activity event, pseudonymised, with its local date and its region (the event's own,
-- else its mission's). Incremental: each run reads the events ingested since the newest one already
-- here, minus var ingest_lookback_minutes (a loader transaction that committed late is not missed),
-- and skips those already here (raw events never change), so a re-run adds and rewrites nothing;
-- unique_key event_id stays as the guard against duplicates. Indexed by region and day, the shape of
-- every per-시군구 question (reports, region pages); created by a hook, as the table outlives its builds.
-- Built after the models its relationships tests read (a subset build runs those tests with this
-- model, never before it exists: assets/warehouse/assets.py):
-- depends_on: {{ ref('dim_region') }}
-- depends_on: {{ ref('dim_user') }}
-- depends_on: {{ ref('dim_mission') }}
{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=[
            "create index if not exists fct_activity_events__region_date on {{ this }} (region_code, event_date)",
        ],
    )
}}

with

events as (
    select staged.*
    from {{ ref('stg_raw__activity_events') }} as staged
    {% if is_incremental() %}
        where
            staged.ingested_at > (
                select
                    coalesce(max(loaded.ingested_at), '-infinity'::timestamptz)
                    - interval '{{ var("ingest_lookback_minutes") | int }} minutes'
                from {{ this }} as loaded
            )
            and not exists (
                select 1 from {{ this }} as present
                where present.event_id = staged.event_id
            )
    {% endif %}
),

missions as (
    select * from {{ ref('stg_app__missions') }}
),

joined as (
    select
        events.event_id,
        {{ pseudonymize('events.user_id') }} as user_key,
        events.occurred_at,
        {{ local_date('events.occurred_at') }} as event_date,
        events.event_type,
        events.mission_id,
        events.step_no,
        coalesce(events.region_code, missions.region_code) as region_code,
        events.lat,
        events.lon,
        events.event_source,
        events.ingested_at,
        events.payload
    from events
    left join missions on events.mission_id = missions.mission_id
),

final as (
    select
        event_id::uuid as event_id,
        user_key::text as user_key,
        occurred_at::timestamptz as occurred_at,
        event_date::date as event_date,
        event_type::text as event_type,
        mission_id::uuid as mission_id,
        step_no::integer as step_no,
        region_code::varchar(5) as region_code,
        lat::double precision as lat,
        lon::double precision as lon,
        event_source::text as source,  -- noqa: RF04
        ingested_at::timestamptz as ingested_at,
        payload::jsonb as payload
    from joined
)

select * from final
