# %% [markdown]
# # 지역 개요: where the platform's activity meets the extinction risk
#
# An analysis over the marts (never staging), run in CI by tests/notebooks. Open it as a notebook with
# jupytext or run it as a script: `python notebooks/region_overview.py [--out DIR]`.
#
# Questions:
# 1. Which 시군구 carry the highest extinction risk, and are they designated decline areas?
# 2. What share of platform activity reaches population-decline areas, against their share of population?
# 3. Does completion differ between decline areas and the rest?
#
# Cells with fewer than 5 active people are suppressed (DESIGN.md) before anything is shown.

# %%
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from sqlalchemy import text

from core.db import get_engine

MIN_CELL = 5


def load(engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    with engine.connect() as conn:
        regions = pd.read_sql(text(
            "select region_code, full_name, population_total, extinction_risk_index, extinction_risk_class, "
            "extinction_risk_rank, is_decline_area from marts.dim_region"), conn)
        activity = pd.read_sql(text(
            "select region_code, activity_month, active_users_count, enrolments_count, completions_count "
            "from marts.mart_region_activity_monthly"), conn)
    return regions, activity


# %% [markdown]
# ## 1. The highest-risk regions

# %%
def highest_risk(regions: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    top = regions.sort_values("extinction_risk_rank").head(n)
    return top[["extinction_risk_rank", "full_name", "extinction_risk_index", "is_decline_area"]]


# %% [markdown]
# ## 2–3. Activity in decline areas

# %%
def decline_share(regions: pd.DataFrame, activity: pd.DataFrame) -> pd.DataFrame:
    shown = activity[activity.active_users_count >= MIN_CELL]  # suppress small cells first
    merged = shown.merge(regions[["region_code", "is_decline_area"]], on="region_code")
    by_flag = merged.groupby("is_decline_area")[["enrolments_count", "completions_count"]].sum()
    population = regions.groupby("is_decline_area")["population_total"].sum()
    out = pd.DataFrame({
        "population_share": population / population.sum(),
        "enrolment_share": by_flag.enrolments_count / by_flag.enrolments_count.sum(),
        "completion_rate": by_flag.completions_count / by_flag.enrolments_count,
    })
    out.index = out.index.map({True: "인구감소지역", False: "그 외 지역"})
    return out


def plot(share: pd.DataFrame, out_dir: Path) -> Path:
    from core.fonts import use_korean_font

    use_korean_font()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    share[["population_share", "enrolment_share"]].plot.bar(ax=ax, rot=0)
    ax.set_ylabel("비율")
    ax.set_title("인구 비중 대비 미션 참여 비중")
    ax.legend(["인구 비중", "참여 비중"])
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "decline_share.svg"
    fig.savefig(path)
    plt.close(fig)
    return path


# %%
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("var/notebooks"))
    args = parser.parse_args(argv)
    regions, activity = load(get_engine())
    print("## 소멸위험 상위 10개 시군구")
    print(highest_risk(regions).to_string(index=False))
    share = decline_share(regions, activity)
    print("\n## 인구감소지역의 참여 비중")
    print(share.round(3).to_string())
    print(f"\nchart: {plot(share, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
