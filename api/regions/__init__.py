"""Regions: 시군구 with their indicators, read from the dbt mart marts.dim_region."""
