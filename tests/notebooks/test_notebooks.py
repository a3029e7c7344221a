"""The notebooks are analyses that run in CI: each runs end to end on the demo marts."""

from notebooks.region_overview import decline_share, highest_risk, load, main


def test_region_overview_runs_on_the_marts(marts_built, engine, tmp_path, capsys):
    assert main(["--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "소멸위험 상위 10개 시군구" in printed
    svg = (tmp_path / "decline_share.svg").read_text()
    assert "<svg" in svg

    regions, activity = load(engine)
    top = highest_risk(regions)
    assert list(top.extinction_risk_rank) == sorted(top.extinction_risk_rank)
    assert top.extinction_risk_index.is_monotonic_increasing
    share = decline_share(regions, activity)
    assert abs(share.population_share.sum() - 1) < 1e-9
    assert ((share.completion_rate >= 0) & (share.completion_rate <= 1)).all()
