-- One row per region and year: totals by sex and the two age groups of the extinction-risk index.
-- Age bands are parsed ('20-24' → 20..24, '100+' → 100..) so that the groups are defined by age,
-- not by a hand-kept list of band labels.
with

population as (
    select * from {{ ref('stg_raw__region_population') }}
),

banded as (
    select
        region_code,
        population_year,
        sex,
        age_band,
        population_count,
        case
            when age_band <> 'total'
                then split_part(replace(age_band, '+', ''), '-', 1)::integer
        end as age_from,
        case
            when age_band <> 'total' and age_band not like '%+'
                then split_part(age_band, '-', 2)::integer
        end as age_to
    from population
),

pivoted as (
    select
        region_code,
        population_year,
        sum(population_count) filter (
            where sex = 'total' and age_band = 'total'
        ) as population_total,
        sum(population_count) filter (
            where sex = 'male' and age_band = 'total'
        ) as population_male,
        sum(population_count) filter (
            where sex = 'female' and age_band = 'total'
        ) as population_female,
        sum(population_count) filter (
            where sex = 'female' and age_from >= 20 and age_to <= 39
        ) as women_20_39_count,
        sum(population_count) filter (
            where sex = 'total' and age_from >= 65
        ) as people_65_plus_count
    from banded
    group by region_code, population_year
),

final as (
    select
        region_code,
        population_year,
        coalesce(population_total, population_male + population_female) as population_total,
        population_male,
        population_female,
        coalesce(women_20_39_count, 0) as women_20_39_count,
        coalesce(people_65_plus_count, 0) as people_65_plus_count
    from pivoted
)

select * from final
