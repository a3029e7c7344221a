-- One row per 시·군·자치구: identity, latest population and its extinction-risk index, class and
-- rank (1 = lowest index = highest risk), change since 2022, decline-area designation, empty houses
-- and the places that missions are built on.
with

regions as (
    select * from {{ ref('stg_raw__regions') }}
),

population as (
    select * from {{ ref('int_region_population__classified') }}
),

decline_areas as (
    select * from {{ ref('stg_raw__decline_areas') }}
),

empty_houses as (
    select * from {{ ref('int_empty_houses__filtered_to_latest') }}
),

places as (
    select * from {{ ref('int_places__counted') }}
),

latest_population as (
    select distinct on (region_code) *
    from population
    where population_total is not null
    order by region_code asc, population_year desc
),

base_population as (
    select
        region_code,
        population_total as population_total_2022
    from population
    where population_year = 2022
),

joined as (
    select
        regions.region_code,
        regions.sido_code,
        regions.sido_name,
        regions.sgg_name,
        regions.full_name,
        regions.region_level as level,  -- noqa: RF04
        regions.centroid_lat,
        regions.centroid_lon,
        regions.area_km2,
        latest_population.population_year,
        latest_population.population_total,
        latest_population.population_male,
        latest_population.population_female,
        latest_population.women_20_39_count,
        latest_population.people_65_plus_count,
        latest_population.extinction_risk_index,
        latest_population.extinction_risk_class,
        latest_population.extinction_risk_label_ko,
        latest_population.extinction_risk_level,
        round(
            100.0 * (latest_population.population_total - base_population.population_total_2022)
            / nullif(base_population.population_total_2022, 0),
            2
        ) as population_change_pct,
        coalesce(decline_areas.area_category = 'decline', false) as is_decline_area,
        coalesce(decline_areas.area_category = 'interest', false) as is_interest_area,
        empty_houses.empty_houses_count,
        empty_houses.empty_houses_year,
        coalesce(places.tourist_spot_count, 0) as tourist_spot_count,
        coalesce(places.festival_count, 0) as festival_count,
        coalesce(places.heritage_count, 0) as heritage_count
    from regions
    left join latest_population on regions.region_code = latest_population.region_code
    left join base_population on regions.region_code = base_population.region_code
    left join decline_areas on regions.region_code = decline_areas.region_code
    left join empty_houses on regions.region_code = empty_houses.region_code
    left join places on regions.region_code = places.region_code
),

ranked as (
    select
        *,
        case
            when extinction_risk_index is not null
                then rank() over (order by extinction_risk_index asc nulls last)
        end as extinction_risk_rank
    from joined
),

final as (
    select
        region_code::varchar(5) as region_code,
        sido_code::varchar(2) as sido_code,
        sido_name::text as sido_name,
        sgg_name::text as sgg_name,
        full_name::text as full_name,
        level::text as level,  -- noqa: RF04
        centroid_lat::double precision as centroid_lat,
        centroid_lon::double precision as centroid_lon,
        area_km2::double precision as area_km2,
        population_year::integer as population_year,
        population_total::integer as population_total,
        population_male::integer as population_male,
        population_female::integer as population_female,
        women_20_39_count::integer as women_20_39_count,
        people_65_plus_count::integer as people_65_plus_count,
        extinction_risk_index::numeric(8, 3) as extinction_risk_index,
        extinction_risk_class::text as extinction_risk_class,
        extinction_risk_label_ko::text as extinction_risk_label_ko,
        extinction_risk_level::smallint as extinction_risk_level,
        extinction_risk_rank::integer as extinction_risk_rank,
        population_change_pct::numeric(7, 2) as population_change_pct,
        is_decline_area::boolean as is_decline_area,
        is_interest_area::boolean as is_interest_area,
        empty_houses_count::integer as empty_houses_count,
        empty_houses_year::integer as empty_houses_year,
        tourist_spot_count::integer as tourist_spot_count,
        festival_count::integer as festival_count,
        heritage_count::integer as heritage_count
    from ranked
)

select * from final
