"""Benchmark: every 시군구's regional report for one month, on a process pool of 2, against a baseline.

    DATABASE_URL=… .venv/bin/python -m benchmarks.reports --month 2026-10 [--limit 229] [--workers 2]

Targets (issue 6): at most 0.15 s per page, and all 229 reports for one month in at most 90 s on two
cores. The baseline, measured in the same run on the same first regions, is the same documents built in
one process without the pool; the ratio says what the pool buys. Nothing is stored: this times
gather + chart + layout + PDF, the work a materialization does when its inputs changed.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import text

from ai.reports import documents, maps, render
from core.db import get_engine

TARGET_S_PER_PAGE = 0.15
TARGET_ALL_S = 90.0


def _codes(limit: int) -> list[str]:
    with get_engine().connect() as conn:
        return list(conn.execute(text("select region_code from marts.dim_region order by region_code "
                                      "limit :n"), {"n": limit}).scalars())


def _fresh_pool() -> None:
    """In a forked worker: drop the parent's pooled connections (their sockets belong to the parent)."""
    get_engine().dispose(close=False)


def _build(batch: tuple[str, list[str]]) -> tuple[int, int, float, dict[str, int]]:
    """Build the reports of `codes` in this process: (reports, pages, cpu seconds, states)."""
    month, codes = batch
    started = time.process_time()
    pages, states = 0, {"full": 0, "small": 0, "none": 0}
    with get_engine().connect() as conn:
        for code in codes:
            doc = documents.build_regional(conn, code, month, atlas=maps.load_atlas(conn, code))
            pages += doc.pages
            states[doc.state] += 1
    return len(codes), pages, time.process_time() - started, states


def run(month: str, limit: int, workers: int, baseline_n: int) -> None:
    codes = _codes(limit)
    _build((month, codes[:1]))  # warm imports, fonts and caches once, as a long-running worker would have
    started = time.perf_counter()
    base_reports, base_pages, base_cpu, _ = _build((month, codes[:baseline_n]))
    base_wall = time.perf_counter() - started
    chunks = [codes[k::workers * 4] for k in range(workers * 4)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, initializer=_fresh_pool) as pool:
        results = list(pool.map(_build, [(month, chunk) for chunk in chunks if chunk]))
    wall = time.perf_counter() - started
    reports = sum(r[0] for r in results)
    pages = sum(r[1] for r in results)
    cpu = sum(r[2] for r in results)
    states = {k: sum(r[3][k] for r in results) for k in ("full", "small", "none")}
    base_per_page = base_wall / base_pages
    per_page_wall = wall * workers / pages  # core-seconds per page
    subsetter = render.font_subsetter()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; fonts subset by {subsetter}"
          + ("" if subsetter == "harfbuzz" else " (about 2.5× slower: apt-get install libharfbuzz-subset0)"))
    print(f"baseline (1 process, first {base_reports} regions): {base_wall:.1f} s, {base_pages} pages, "
          f"{base_per_page:.3f} s/page wall, {base_cpu / base_pages:.3f} s/page cpu")
    print(f"pool of {workers}: {reports} reports ({states}), {pages} pages in {wall:.1f} s wall; "
          f"{per_page_wall:.3f} core-s/page, {cpu / pages:.3f} cpu-s/page")
    print(f"ratio pool/baseline per page: {per_page_wall / base_per_page:.2f}; "
          f"projected all 229: {wall / reports * 229:.1f} s")
    print(f"target ≤{TARGET_S_PER_PAGE} s/page: {'met' if cpu / pages <= TARGET_S_PER_PAGE else 'NOT met'} (cpu); "
          f"target ≤{TARGET_ALL_S:.0f} s for 229: {'met' if wall / reports * 229 <= TARGET_ALL_S else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--limit", type=int, default=229)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", type=int, default=10, help="regions in the single-process baseline")
    args = parser.parse_args()
    run(args.month, args.limit, args.workers, args.baseline)


if __name__ == "__main__":
    main()
