-- The extinction-risk index (소멸위험지수 = women aged 20–39 ÷ people aged 65+) of every region and
-- year, and its class from the seed. The class is looked up with the index rounded to the 3
-- decimals that are published, so the number a reader sees and its class always agree.
-- No one aged 65+ → no index (and no class).
with

population as (
    select * from {{ ref('int_region_population__pivoted') }}
),

classes as (
    select * from {{ ref('extinction_risk_classes') }}
),

indexed as (
    select
        region_code,
        population_year,
        population_total,
        population_male,
        population_female,
        women_20_39_count,
        people_65_plus_count,
        round(women_20_39_count::numeric / nullif(people_65_plus_count, 0), 3) as extinction_risk_index
    from population
),

classified as (
    select
        indexed.region_code,
        indexed.population_year,
        indexed.population_total,
        indexed.population_male,
        indexed.population_female,
        indexed.women_20_39_count,
        indexed.people_65_plus_count,
        indexed.extinction_risk_index,
        classes.extinction_risk_class,
        classes.extinction_risk_label_ko,
        classes.risk_level as extinction_risk_level
    from indexed
    left join classes
        on
            indexed.extinction_risk_index >= classes.index_lower_bound
            and (
                classes.index_upper_bound is null
                or indexed.extinction_risk_index < classes.index_upper_bound
            )
)

select * from classified
