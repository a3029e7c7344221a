"""Write superset/bundle/ (Superset's asset-bundle YAML) from the declarations below and the dbt contracts.

    .venv/bin/python superset/build_bundle.py          # rewrite bundle/
    .venv/bin/python superset/build_bundle.py --check  # exit 1 when bundle/ differs (CI)

The dashboards are declared here once, compactly; the committed YAML is what Superset imports and what
reviewers read. Dataset columns and types come from the enforced contracts of the dbt marts
(dbt/models/marts/**), so a renamed mart column changes the bundle, and tests/superset check that
every chart only uses columns that exist. UUIDs are uuid5 of stable names: re-running changes nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUNDLE = HERE / "bundle"
MARTS = ROOT / "dbt" / "models" / "marts"
NAMESPACE = uuid.UUID("5d1b0c52-7a4e-4b8e-9a43-2f0f6a1d3c10")
DATABASE_NAME = "고향으로 ON 웨어하우스"
DATABASE_UUID = str(uuid.uuid5(NAMESPACE, "database:warehouse"))
NO_TIME_FILTER = "No filter"
# deck.gl's base map: one transparent pixel for every tile, so the browser never leaves this server.
BLANK_TILES = ("tile://data:image/png;base64,"
               "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
KOREA_VIEWPORT = {"latitude": 36.1, "longitude": 127.8, "zoom": 5.6, "bearing": 0, "pitch": 0}

# Korean column labels (verbose names) shown in the dashboards.
LABELS = {
    "region_code": "시군구 코드", "sido_name": "시도", "sgg_name": "시군구", "full_name": "지역",
    "population_total": "인구", "extinction_risk_index": "소멸위험지수", "extinction_risk_label_ko": "소멸위험 등급",
    "extinction_risk_level": "소멸위험 단계", "is_decline_area": "인구감소지역", "participants_count": "참여자",
    "attempts_count": "미션 시도", "completions_count": "완료", "failures_count": "실패",
    "abandonments_count": "중도 포기", "stay_users_count": "체류 인원", "stay_days_count": "체류일",
    "participants_per_1000_residents": "주민 천 명당 참여자", "is_small_cell": "소규모 셀(5명 미만)",
    "activity_month": "월", "stay_month": "월", "active_users_count": "활동 인원", "enrolments_count": "미션 시작",
    "checkins_count": "체크인", "completion_rate": "완료율", "mission_type": "미션 유형", "user_type": "사용자 유형",
    "outcome": "결과", "failure_reason": "실패 사유", "enrolled_at": "시작 시각", "step_no": "단계",
    "reached_count": "도달", "dropped_count": "이탈", "skill": "기술", "submitted_month": "제출 월",
    "submitted_at": "제출 시각", "decision": "심사 결과", "approved_tier": "승인 등급", "status": "상태",
    "posted_month": "게시 월", "board_kind": "게시판 종류", "request_status": "요청 상태", "opened_by": "접수 경로",
    "closing_action": "처리 결과", "posted_at": "게시 시각", "tier_wanted": "요청 등급",
    "recommended_month": "추천 월", "recommended_count": "추천(사용자×미션)",
    "enrolment_rate": "추천 후 참여율", "open_window_count": "관찰 중인 추천",
    "followup_days": "관찰 기간(일)", "segment": "사용자 구분", "ranking_method": "추천 방식",
    "ndcg_at_10": "nDCG@10", "recall_at_10": "Recall@10", "coverage": "카탈로그 커버리지",
    "run_at": "평가 시각", "is_latest_run": "최근 평가",
}


# Korean labels of the platform's keys (core/vocab.py), as computed columns on every dataset that has the key.
VOCAB_KO = {
    "mission_type": {"exploration": "지역탐색형", "social": "사회유대형", "skill": "재능기부형", "learning": "학습형"},
    "user_type": {"returnee": "귀향자", "youth": "청년", "supporter": "고향 응원자", "requester": "지역 의뢰자",
                  "mentor": "멘토"},
    "failure_reason": {"weather": "날씨", "schedule_conflict": "일정 충돌", "too_far": "거리가 멂",
                       "too_difficult": "너무 어려움", "host_unavailable": "호스트 부재", "safety": "안전",
                       "health": "건강", "verification_failed": "인증 실패", "other": "기타"},
    "outcome": {"completed": "완료", "failed": "실패", "abandoned": "중도 포기", "in_progress": "진행 중"},
    "board_kind": {"general": "자유", "sido": "시도", "sigungu": "시군구", "mission_type": "미션 유형", "qna": "Q&A",
                   "mentor": "멘토"},
    "request_status": {"pending": "대기", "accepted": "수락", "declined": "거절", "withdrawn": "철회"},
    "opened_by": {"report": "이용자 신고", "screen": "자동 검토"},
    "closing_action": {"dismiss": "기각", "hide": "숨김", "warn": "경고", "suspend": "정지", "ban": "영구 정지"},
    "segment": {"history": "이력 있는 사용자", "cold_start": "신규 사용자", "all": "전체"},
    "ranking_method": {"hybrid": "하이브리드(추천 엔진)", "item_knn": "아이템 kNN", "popularity": "인기순",
                       "random": "무작위"},
}
FLAGS_KO = {"is_decline_area": ("인구감소지역 여부", "인구감소지역", "-")}


def vocab_columns(columns: dict[str, str]) -> dict[str, tuple[str, str]]:
    """`<key>_ko` computed columns (CASE over the vocabulary) for the keys a mart has."""
    computed = {}
    for key, labels in VOCAB_KO.items():
        if key in columns:
            cases = " ".join(f"WHEN '{value}' THEN '{label}'" for value, label in labels.items())
            computed[f"{key}_ko"] = (LABELS.get(key, key), f"CASE {key} {cases} ELSE COALESCE({key}, '처리 중') END")
    for key, (label, yes, no) in FLAGS_KO.items():
        if key in columns:
            computed[f"{key}_ko"] = (label, f"CASE WHEN {key} THEN '{yes}' ELSE '{no}' END")
    return computed


# ---------------------------------------------------------------------------------- declarations
@dataclass
class Dataset:
    key: str
    table: str
    description: str
    metrics: dict[str, tuple[str, str, str]]  # name → (Korean label, SQL expression, d3 format)
    dttm: str | None = None
    computed: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (label, SQL expression)

    @property
    def uuid(self) -> str:
        return str(uuid.uuid5(NAMESPACE, f"dataset:marts.{self.table}"))


def rate(numerator: str, denominator: str) -> str:
    return f"1.0 * {numerator} / NULLIF({denominator}, 0)"


DATASETS = [
    Dataset("overview", "mart_region_overview", "시군구별 참여·체류·소멸위험 (지도 포함)", {
        "participants": ("참여자(지역 합)", "SUM(participants_count)", ",d"),
        "attempts": ("미션 시도", "SUM(attempts_count)", ",d"),
        "completions": ("완료한 미션", "SUM(completions_count)", ",d"),
        "stay_days": ("체류일", "SUM(stay_days_count)", ",d"),
        "decline_share": ("인구감소지역 활동 비중",
                          rate("SUM(CASE WHEN is_decline_area THEN attempts_count ELSE 0 END)", "SUM(attempts_count)"),
                          ".1%"),
        "risk_index": ("소멸위험지수", "AVG(extinction_risk_index)", ".3f"),
        "risk_level": ("소멸위험 단계", "MAX(extinction_risk_level)", "d"),
        "per_1000": ("주민 천 명당 참여자", rate("1000 * SUM(participants_count)", "SUM(population_total)"), ".2f"),
        "population": ("인구", "SUM(population_total)", ",d"),
    }),
    Dataset("activity", "mart_region_activity_monthly", "시군구·월별 활동", {
        "enrolments": ("미션 시작", "SUM(enrolments_count)", ",d"),
        "completions": ("미션 완료", "SUM(completions_count)", ",d"),
        "failures": ("미션 실패", "SUM(failures_count)", ",d"),
        "abandonments": ("중도 포기", "SUM(abandonments_count)", ",d"),
        "active_users": ("활동 인원(지역 합)", "SUM(active_users_count)", ",d"),
        "checkins": ("체크인", "SUM(checkins_count)", ",d"),
        "completion_rate": ("완료율", rate("SUM(completions_count)",
                                        "SUM(completions_count + failures_count + abandonments_count)"), ".1%"),
    }, dttm="activity_month"),
    Dataset("stays", "mart_stay_days_monthly", "시군구·월별 생활인구 체류일", {
        "stay_days": ("체류일", "SUM(stay_days_count)", ",d"),
        "stay_users": ("체류 인원(지역 합)", "SUM(stay_users_count)", ",d"),
        "hours_present": ("체류 시간", "SUM(hours_present)", ",.0f"),
    }, dttm="stay_month"),
    Dataset("attempts", "fct_mission_attempts", "미션 시도 (한 행 = 한 사람의 한 번의 시도)", {
        "participants": ("참여자 수", "COUNT(DISTINCT user_key)", ",d"),
        "attempts": ("미션 시도", "COUNT(*)", ",d"),
        "completed": ("완료한 미션", "SUM(CASE WHEN outcome = 'completed' THEN 1 ELSE 0 END)", ",d"),
        "failed": ("실패", "SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END)", ",d"),
        "completion_rate": ("완료율", rate("SUM(CASE WHEN outcome = 'completed' THEN 1 ELSE 0 END)",
                                        "SUM(CASE WHEN outcome <> 'in_progress' THEN 1 ELSE 0 END)"), ".1%"),
        "median_minutes": ("완료 소요 시간 중앙값(분)", "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY CASE WHEN "
                           "outcome = 'completed' THEN duration_minutes END)", ",.0f"),
    }, dttm="enrolled_at"),
    Dataset("funnel", "mart_mission_funnel", "미션·단계별 퍼널", {
        "reached": ("도달한 시도", "SUM(reached_count)", ",d"),
        "dropped": ("이탈한 시도", "SUM(dropped_count)", ",d"),
        "drop_off_rate": ("이탈률", rate("SUM(dropped_count)", "SUM(previous_reached_count)"), ".1%"),
    }, computed={"stage": ("퍼널 단계", "CASE WHEN step_no = 0 THEN '0. 참여 신청' "
                                         "ELSE step_no || '. ' || step_no || '단계 완료' END")}),
    Dataset("failures", "mart_failure_reasons", "실패 사유 (지역·미션 유형·사용자 유형)", {
        "failures": ("실패 건수", "SUM(failures_count)", ",d"),
    }),
    Dataset("outcomes", "mart_mission_outcomes_by_segment", "지역·미션 유형·사용자 유형별 결과", {
        "attempts": ("미션 시도", "SUM(attempts_count)", ",d"),
        "completion_rate": ("완료율", rate("SUM(completed_count)",
                                        "SUM(completed_count + failed_count + abandoned_count)"), ".1%"),
    }),
    Dataset("submissions", "fct_certification_submissions", "기술 인증 제출 (한 행 = 한 제출)", {
        "submissions": ("제출", "COUNT(*)", ",d"),
        "approved": ("승인", "SUM(CASE WHEN decision = 'approved' THEN 1 ELSE 0 END)", ",d"),
        "pass_rate": ("합격률", rate("SUM(CASE WHEN decision = 'approved' THEN 1 ELSE 0 END)",
                                    "SUM(CASE WHEN decision IS NOT NULL THEN 1 ELSE 0 END)"), ".1%"),
        "median_review_minutes": ("심사 시간 중앙값(분)",
                                  "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY review_minutes)", ",.0f"),
    }, dttm="submitted_at"),
    Dataset("certify_monthly", "mart_certification_by_skill_monthly", "기술·월별 인증", {
        "submitted": ("제출", "SUM(submitted_count)", ",d"),
        "approved": ("승인", "SUM(approved_count)", ",d"),
        "pass_rate": ("합격률", rate("SUM(approved_count)", "SUM(decided_count)"), ".1%"),
    }, dttm="submitted_month"),
    Dataset("needs", "fct_regional_needs", "지역 수요 (한 행 = 한 수요)", {
        "posted": ("게시된 수요", "COUNT(*)", ",d"),
        "filled": ("채워진 수요", "COUNT(filled_at)", ",d"),
        "fill_rate": ("충족률", rate("COUNT(filled_at)", "COUNT(*)"), ".1%"),
        "median_hours_to_fill": ("충족까지 시간 중앙값(시간)",
                                 "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY hours_to_fill)", ",.0f"),
    }, dttm="posted_at"),
    Dataset("needs_monthly", "mart_needs_by_region_monthly", "시군구·월별 수요 게시와 충족", {
        "posted": ("게시된 수요", "SUM(posted_count)", ",d"),
        "filled": ("채워진 수요", "SUM(filled_count)", ",d"),
    }, dttm="posted_month"),
    Dataset("community_weekly", "mart_community_activity_weekly", "주·게시판·시군구별 커뮤니티 활동", {
        "posts": ("게시글", "SUM(posts_count)", ",d"),
        "comments": ("댓글", "SUM(comments_count)", ",d"),
        "likes": ("좋아요", "SUM(likes_count)", ",d"),
        "held": ("자동 보류된 글", "SUM(held_posts_count)", ",d"),
        "hidden": ("숨김 처리된 글", "SUM(hidden_posts_count)", ",d"),
    }, dttm="activity_week_date"),
    Dataset("mentor_requests", "fct_mentor_requests", "멘토 요청 (한 행 = 한 요청)", {
        "requests": ("멘토 요청", "COUNT(*)", ",d"),
        "accepted": ("매칭 성사", "SUM(CASE WHEN is_accepted THEN 1 ELSE 0 END)", ",d"),
        "acceptance_rate": ("수락률", rate("SUM(CASE WHEN is_accepted THEN 1 ELSE 0 END)",
                                        "COUNT(responded_at)"), ".1%"),
        "median_hours_to_answer": ("응답까지 시간 중앙값(시간)",
                                   "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY hours_to_answer)", ",.1f"),
    }, dttm="requested_at"),
    Dataset("moderation_cases", "fct_moderation_cases", "신고·자동 검토 사건 (한 행 = 한 사건)", {
        "cases": ("사건", "COUNT(*)", ",d"),
        "reports": ("신고", "SUM(report_count)", ",d"),
        "median_minutes_to_close": ("처리 시간 중앙값(분)",
                                    "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY minutes_to_close)", ",.0f"),
    }, dttm="opened_at"),
]
# The outcome rates count only recommendations whose follow-up window has passed (the mart's rule), so
# they are weighted by those: recommended_count - open_window_count.
CLOSED = "(recommended_count - open_window_count)"
DATASETS += [
    Dataset("rec_outcomes", "mart_recommendation_outcomes_monthly",
            "추천이 이어진 참여와 완료 (처음 추천된 월·미션 유형별, 추천 후 14일 안)", {
                "recommended": ("추천(사용자×미션)", "SUM(recommended_count)", ",d"),
                "enrolled": ("추천 후 참여", "SUM(enrolled_count)", ",d"),
                "completed": ("추천 후 완료", "SUM(completed_count)", ",d"),
                "enrolment_rate": ("추천 후 참여율", rate(f"SUM(enrolment_rate * {CLOSED})", f"SUM({CLOSED})"),
                                   ".1%"),
                "completion_rate": ("추천 후 완료율", rate(f"SUM(completion_rate * {CLOSED})", f"SUM({CLOSED})"),
                                    ".1%"),
            }, dttm="recommended_month"),
    Dataset("rec_evaluation", "mart_recommendation_evaluation",
            "추천 방식 오프라인 평가 (시간 분할: 기준 시점 전으로 학습, 후를 예측)", {
                # named as shown: a chart with several metrics and a series names each series by metric name
                "nDCG@10": ("nDCG@10", "AVG(ndcg_at_10)", ".3f"),
                "Recall@10": ("Recall@10", "AVG(recall_at_10)", ".3f"),
                "coverage": ("카탈로그 커버리지", "AVG(coverage)", ".1%"),
            }),
]
BY_KEY = {d.key: d for d in DATASETS}

# Cells of fewer than 5 people never leave the platform (DESIGN.md): region-level charts filter on the
# marts' is_small_cell flag, or keep groups of at least 5 distinct people.
NOT_SMALL = {"clause": "WHERE", "expressionType": "SQL", "sqlExpression": "NOT is_small_cell"}
FIVE_PEOPLE = {"clause": "HAVING", "expressionType": "SQL", "sqlExpression": "COUNT(DISTINCT user_key) >= 5"}


def where(sql: str) -> dict[str, str]:
    return {"clause": "WHERE", "expressionType": "SQL", "sqlExpression": sql}


@dataclass
class Chart:
    key: str
    name: str
    dataset: str
    viz: str
    params: dict[str, Any]
    width: int = 4
    height: int = 50
    filters: list[dict[str, Any]] = field(default_factory=list)
    description: str | None = None

    @property
    def uuid(self) -> str:
        return str(uuid.uuid5(NAMESPACE, f"chart:{self.key}"))


def big_number(key: str, name: str, dataset: str, metric: str, subtitle: str, **kw: Any) -> Chart:
    return Chart(key, name, dataset, "big_number_total",
                 {"metric": metric, "subtitle": subtitle, "header_font_size": 0.4, "subheader_font_size": 0.15,
                  "y_axis_format": BY_KEY[dataset].metrics[metric][2]}, width=3, height=30, **kw)


def timeseries(key: str, name: str, dataset: str, metrics: list[str], viz: str = "echarts_timeseries_line",
               groupby: list[str] | None = None, stack: bool = True, **kw: Any) -> Chart:
    return Chart(key, name, dataset, viz,
                 {"x_axis": BY_KEY[dataset].dttm, "time_grain_sqla": "P1M", "metrics": metrics,
                  "groupby": groupby or [], "x_axis_time_format": "%Y-%m", "rich_tooltip": True,
                  "show_legend": True, "legendOrientation": "top", "markerEnabled": True, "row_limit": 10_000,
                  "y_axis_format": BY_KEY[dataset].metrics[metrics[0]][2], "truncateYAxis": False,
                  "stack": "Stack" if stack and viz.endswith("bar") and groupby else None}, **kw)


def bars(key: str, name: str, dataset: str, x: str, metrics: list[str], groupby: list[str] | None = None,
         horizontal: bool = False, stack: bool = True, **kw: Any) -> Chart:
    return Chart(key, name, dataset, "echarts_timeseries_bar",
                 {"x_axis": x, "metrics": metrics, "groupby": groupby or [],
                  "stack": "Stack" if stack and groupby else None,
                  "orientation": "horizontal" if horizontal else "vertical", "show_legend": True,
                  "legendOrientation": "top", "rich_tooltip": True, "row_limit": 10_000,
                  "x_axis_sort_series": "sum", "x_axis_sort_series_ascending": False,
                  "y_axis_format": BY_KEY[dataset].metrics[metrics[0]][2], "truncateYAxis": False}, **kw)


def pie(key: str, name: str, dataset: str, groupby: str, metric: str, **kw: Any) -> Chart:
    return Chart(key, name, dataset, "pie",
                 {"groupby": [groupby], "metric": metric, "donut": True, "show_labels": True,
                  "label_type": "key_percent", "show_legend": True, "legendOrientation": "top",
                  "number_format": BY_KEY[dataset].metrics[metric][2], "row_limit": 100, "sort_by_metric": True},
                 **kw)


def table(key: str, name: str, dataset: str, groupby: list[str], metrics: list[str], limit: int = 20,
          **kw: Any) -> Chart:
    return Chart(key, name, dataset, "table",
                 {"query_mode": "aggregate", "groupby": groupby, "metrics": metrics, "all_columns": [],
                  "percent_metrics": [], "order_desc": True, "timeseries_limit_metric": metrics[0],
                  "row_limit": limit, "server_page_length": 10, "include_search": False,
                  "table_timestamp_format": "smart_date", "show_cell_bars": True}, **kw)


def polygon_map(key: str, name: str, metric: str, scheme: str, **kw: Any) -> Chart:
    return Chart(key, name, "overview", "deck_polygon",
                 {"line_column": "outline_json", "line_type": "json", "metric": metric,
                  "point_radius_fixed": {"type": "fix", "value": 0}, "reverse_long_lat": False,
                  "filled": True, "stroked": True, "extruded": False, "line_width": 1, "line_width_unit": "pixels",
                  "fill_color_picker": {"r": 3, "g": 65, "b": 73, "a": 1},
                  "stroke_color_picker": {"r": 120, "g": 120, "b": 120, "a": 1},
                  "linear_color_scheme": scheme, "opacity": 80, "num_buckets": 5, "break_points": [],
                  "legend_position": "tr", "legend_format": BY_KEY["overview"].metrics[metric][2],
                  "mapbox_style": BLANK_TILES, "autozoom": False,
                  "viewport": {**KOREA_VIEWPORT, "width": 600, "height": 560},
                  "js_columns": [], "js_data_mutator": "", "js_tooltip": "", "js_onclick_href": "",
                  "tooltip_contents": ["full_name"], "row_limit": 5000}, width=6, height=90, **kw)


CHARTS = [
    # 정책 현황 ----------------------------------------------------------------------------------------
    big_number("kpi_participants", "참여자 수", "attempts", "participants", "미션에 참여한 사람 (전국, 중복 없이)"),
    big_number("kpi_stay_days", "생활인구 체류일", "stays", "stay_days", "하루 3시간 이상 머문 날 (사람 × 일)"),
    big_number("kpi_completed", "완료한 미션", "attempts", "completed", "끝까지 마친 미션 시도"),
    big_number("kpi_decline_share", "인구감소지역 활동 비중", "overview", "decline_share",
               "전체 미션 시도 중 인구감소지역"),
    timeseries("trend_national", "월별 미션 참여 추이", "activity", ["enrolments", "completions", "failures"], width=6),
    timeseries("trend_stay_days", "월별 생활인구 체류일", "stays", ["stay_days"], viz="echarts_timeseries_bar",
               width=6),
    polygon_map("map_activity", "시군구 지도: 참여자 (5명 미만 지역 제외)", "participants", "oranges",
                filters=[NOT_SMALL]),
    polygon_map("map_risk", "시군구 지도: 지방소멸위험 단계", "risk_level", "fire"),
    bars("completed_by_type", "미션 유형별 완료", "attempts", "mission_type_ko", ["completed", "attempts"], width=4),
    table("top_regions", "참여가 많은 시군구 (5명 미만 제외)", "overview",
          ["full_name", "extinction_risk_label_ko", "is_decline_area_ko"], ["participants", "stay_days", "completions"],
          filters=[NOT_SMALL], width=8),
    # 지역 상세 ----------------------------------------------------------------------------------------
    table("region_profile", "지역 개요", "overview",
          ["full_name", "population_total", "extinction_risk_index", "extinction_risk_label_ko", "is_decline_area_ko"],
          ["participants", "attempts", "stay_days"], limit=5, width=12, height=30),
    timeseries("region_trend", "월별 추이 (5명 미만 월 제외)", "activity",
               ["active_users", "enrolments", "completions"], filters=[NOT_SMALL], width=6),
    timeseries("region_stay_trend", "월별 체류일 (5명 미만 월 제외)", "stays", ["stay_days"],
               viz="echarts_timeseries_bar", filters=[NOT_SMALL], width=6),
    pie("region_mission_types", "미션 유형별 시도", "outcomes", "mission_type_ko", "attempts", filters=[NOT_SMALL]),
    Chart("region_funnel", "미션 퍼널", "funnel", "funnel",
          {"groupby": ["stage"], "metric": "reached", "sort_by_metric": True, "row_limit": 10,
           "show_labels": True, "show_legend": False, "number_format": ",d", "percent_calculation_type": "first_step",
           "label_type": "key_value_percent", "tooltip_label_type": 5},
          filters=[{"clause": "HAVING", "expressionType": "SQL", "sqlExpression": "SUM(reached_count) >= 5"}]),
    timeseries("region_needs", "월별 수요 게시와 충족", "needs_monthly", ["posted", "filled"],
               viz="echarts_timeseries_bar"),
    Chart("region_peers", "비슷한 지역과 비교: 인구감소지역의 소멸위험지수와 참여 (전체 지역, 필터 미적용)",
          "overview", "bubble_v2",
          {"entity": "full_name", "series": "extinction_risk_label_ko", "x": "risk_index", "y": "per_1000",
           "size": "population", "max_bubble_size": "25", "opacity": 0.6, "show_legend": True,
           "legendOrientation": "top", "row_limit": 500, "order_desc": True, "x_axis_label": "소멸위험지수",
           "y_axis_label": "주민 천 명당 참여자", "xAxisFormat": ".2f", "y_axis_format": ".2f",
           "tooltipSizeFormat": ",d", "truncateXAxis": True, "truncateYAxis": False},
          filters=[NOT_SMALL, where("is_decline_area")], width=12, height=60),
    # 미션 성과 ----------------------------------------------------------------------------------------
    Chart("funnel_overall", "전체 미션 퍼널", "funnel", "funnel",
          {"groupby": ["stage"], "metric": "reached", "sort_by_metric": True, "row_limit": 10,
           "show_labels": True, "show_legend": False, "number_format": ",d", "percent_calculation_type": "first_step",
           "label_type": "key_value_percent", "tooltip_label_type": 5}),
    bars("funnel_by_type", "미션 유형별 단계 도달", "funnel", "stage", ["reached"], groupby=["mission_type_ko"],
         width=8),
    bars("failure_reasons_by_type", "미션 유형별 실패 사유", "failures", "failure_reason_ko", ["failures"],
         groupby=["mission_type_ko"], width=6),
    Chart("completion_heatmap", "사용자 유형 × 미션 유형 완료율", "outcomes", "heatmap_v2",
          {"x_axis": "mission_type_ko", "groupby": "user_type_ko", "metric": "completion_rate",
           "linear_color_scheme": "blue_white_yellow", "normalize_across": "heatmap", "show_values": True,
           "show_legend": True, "value_bounds": [None, None], "y_axis_format": ".0%", "sort_x_axis": "alpha_asc",
           "sort_y_axis": "alpha_asc", "row_limit": 1000, "bottom_margin": "auto", "left_margin": "auto"},
          width=6),
    table("failures_by_region", "지역별 실패와 완료율 (5명 미만 제외)", "attempts",
          ["region_code", "mission_type_ko"], ["failed", "attempts", "completion_rate", "participants"],
          filters=[where("region_code IS NOT NULL"), FIVE_PEOPLE], width=6),
    bars("median_minutes_by_type", "미션 유형별 완료 소요 시간 중앙값(분)", "attempts", "mission_type_ko",
         ["median_minutes"], width=6),
    # 기술 인증·매칭 ------------------------------------------------------------------------------------
    big_number("kpi_submissions", "인증 제출", "submissions", "submissions", "사진·음성 증빙 제출"),
    big_number("kpi_pass_rate", "합격률", "submissions", "pass_rate", "심사가 끝난 제출 중 승인"),
    big_number("kpi_review_minutes", "심사 시간 중앙값(분)", "submissions", "median_review_minutes",
               "제출부터 결정까지"),
    big_number("kpi_needs_filled", "수요 충족률", "needs", "fill_rate", "지자체가 게시한 수요 중 채워진 비율"),
    timeseries("submissions_monthly", "월별 인증 제출과 승인", "certify_monthly", ["submitted", "approved"],
               viz="echarts_timeseries_bar", width=6),
    bars("pass_rate_by_skill", "기술별 합격률", "certify_monthly", "skill", ["pass_rate", "submitted"], width=6),
    pie("tiers", "승인 등급 분포", "submissions", "approved_tier", "submissions",
        filters=[where("approved_tier IS NOT NULL")]),
    bars("needs_by_skill", "기술별 수요 게시와 충족", "needs", "skill", ["posted", "filled"], width=4),
    timeseries("needs_monthly", "월별 수요 게시와 충족", "needs_monthly", ["posted", "filled"],
               viz="echarts_timeseries_bar", width=4),
    # 커뮤니티 -----------------------------------------------------------------------------------------
    big_number("kpi_posts", "게시글", "community_weekly", "posts", "게시판에 쓴 글"),
    big_number("kpi_mentor_matches", "멘토 매칭 성사", "mentor_requests", "accepted", "수락된 멘토 요청"),
    big_number("kpi_reports", "신고", "moderation_cases", "reports", "이용자 신고 건수"),
    big_number("kpi_moderation_minutes", "처리 시간 중앙값(분)", "moderation_cases", "median_minutes_to_close",
               "사건 접수부터 종료까지"),
    timeseries("community_weekly_trend", "주별 게시글·댓글·좋아요", "community_weekly",
               ["posts", "comments", "likes"], viz="echarts_timeseries_bar", width=6),
    pie("posts_by_board_kind", "게시판 종류별 게시글", "community_weekly", "board_kind_ko", "posts", width=3),
    pie("mentor_request_status", "멘토 요청 상태", "mentor_requests", "request_status_ko", "requests", width=3),
    bars("moderation_by_action", "사건 유형·처리 결과", "moderation_cases", "closing_action_ko", ["cases"],
         groupby=["opened_by_ko"], width=6),
    timeseries("screen_holds", "주별 자동 보류·숨김과 게시글", "community_weekly", ["posts", "held", "hidden"],
               width=6),
]
# 미션 성과: what the recommendations led to (appended, so the other charts keep their local ids)
CHARTS += [
    timeseries("rec_enrolment", "추천 후 14일 안에 참여한 비율 (처음 추천된 월·미션 유형별, 5명 미만 제외)",
               "rec_outcomes", ["enrolment_rate"], viz="echarts_timeseries_bar",
               groupby=["mission_type_ko"], stack=False, filters=[NOT_SMALL], width=6,
               description="사용자×미션 쌍이 처음 추천된 뒤 14일 안에 그 미션을 시작한 비율. 14일이 지나지 않은 "
                           "추천은 비율에서 빠집니다."),
    timeseries("rec_completion", "추천 후 14일 안에 완료한 비율 (처음 추천된 월·미션 유형별, 5명 미만 제외)",
               "rec_outcomes", ["completion_rate"], viz="echarts_timeseries_bar",
               groupby=["mission_type_ko"], stack=False, filters=[NOT_SMALL], width=6,
               description="처음 추천된 뒤 14일 안에 그 미션을 끝까지 마친 비율."),
    bars("rec_methods", "추천 방식 비교: 하이브리드와 기준 방식의 nDCG@10·Recall@10 (최근 평가, 사용자 구분별)",
         "rec_evaluation", "segment_ko", ["nDCG@10", "Recall@10"], groupby=["ranking_method_ko"], stack=False,
         filters=[where("is_latest_run")], width=12,
         description="시간 분할 오프라인 평가: 기준 시점 이전 기록으로 학습하고 이후의 참여를 얼마나 맞혔는지. "
                     "인기순·아이템 kNN·무작위가 기준 방식입니다."),
]
CHART_BY_KEY = {c.key: c for c in CHARTS}


@dataclass
class Dashboard:
    key: str
    title: str
    slug: str
    rows: list[list[str]]
    region_filter: bool = False
    filter_excluded: list[str] = field(default_factory=list)

    @property
    def uuid(self) -> str:
        return str(uuid.uuid5(NAMESPACE, f"dashboard:{self.key}"))


DASHBOARDS = [
    Dashboard("policy", "정책 현황", "policy-overview", [
        ["kpi_participants", "kpi_stay_days", "kpi_completed", "kpi_decline_share"],
        ["trend_national", "trend_stay_days"],
        ["map_activity", "map_risk"],
        ["completed_by_type", "top_regions"],
    ]),
    Dashboard("region", "지역 상세", "region-detail", [
        ["region_profile"],
        ["region_trend", "region_stay_trend"],
        ["region_mission_types", "region_funnel", "region_needs"],
        ["region_peers"],
    ], region_filter=True, filter_excluded=["region_peers"]),
    Dashboard("missions", "미션 성과", "mission-performance", [
        ["funnel_overall", "funnel_by_type"],
        ["failure_reasons_by_type", "completion_heatmap"],
        ["failures_by_region", "median_minutes_by_type"],
        ["rec_enrolment", "rec_completion"],
        ["rec_methods"],
    ]),
    Dashboard("community", "커뮤니티", "community", [
        ["kpi_posts", "kpi_mentor_matches", "kpi_reports", "kpi_moderation_minutes"],
        ["community_weekly_trend", "posts_by_board_kind", "mentor_request_status"],
        ["moderation_by_action", "screen_holds"],
    ]),
    Dashboard("certify", "기술 인증·매칭", "certification-matching", [
        ["kpi_submissions", "kpi_pass_rate", "kpi_review_minutes", "kpi_needs_filled"],
        ["submissions_monthly", "pass_rate_by_skill"],
        ["tiers", "needs_by_skill", "needs_monthly"],
    ]),
]


# ---------------------------------------------------------------------------------- dbt contracts
def mart_contracts() -> dict[str, dict[str, str]]:
    """{model: {column: data_type}} from every YAML file under dbt/models/marts."""
    contracts: dict[str, dict[str, str]] = {}
    for path in sorted(MARTS.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            contracts[model["name"]] = {c["name"]: str(c.get("data_type", "")) for c in model.get("columns", [])}
    return contracts


def superset_type(data_type: str) -> str:
    """dbt data_type → the type string Superset stores (upper-case PostgreSQL names)."""
    aliases = {"timestamptz": "TIMESTAMP WITH TIME ZONE", "timestamp": "TIMESTAMP WITHOUT TIME ZONE",
               "int": "INTEGER", "int4": "INTEGER", "int8": "BIGINT", "bool": "BOOLEAN", "float8": "DOUBLE PRECISION"}
    cleaned = re.sub(r"\s+", " ", data_type.strip().lower())
    return aliases.get(cleaned, cleaned.upper())


def is_temporal(data_type: str) -> bool:
    return superset_type(data_type).startswith(("DATE", "TIMESTAMP"))


# ---------------------------------------------------------------------------------- YAML documents
def database_doc() -> dict[str, Any]:
    return {
        "database_name": DATABASE_NAME, "sqlalchemy_uri": "postgresql+psycopg2://filled-in-by-bootstrap/hometown",
        "cache_timeout": None, "expose_in_sqllab": True, "allow_run_async": False, "allow_ctas": False,
        "allow_cvas": False, "allow_dml": False, "allow_file_upload": False,
        "extra": {"allows_virtual_table_explore": True, "schemas_allowed_for_file_upload": [],
                  "metadata_params": {}, "engine_params": {"connect_args": {"connect_timeout": 10}}},
        "uuid": DATABASE_UUID, "version": "1.0.0",
    }


def dataset_doc(dataset: Dataset, contract: dict[str, str]) -> dict[str, Any]:
    columns = [{
        "column_name": name, "verbose_name": LABELS.get(name), "is_dttm": is_temporal(data_type),
        "is_active": True, "type": superset_type(data_type), "advanced_data_type": None, "groupby": True,
        "filterable": True, "expression": None, "description": None, "python_date_format": None, "extra": {},
    } for name, data_type in contract.items()]
    columns += [{
        "column_name": name, "verbose_name": label, "is_dttm": False, "is_active": True, "type": "TEXT",
        "advanced_data_type": None, "groupby": True, "filterable": True, "expression": expression,
        "description": None, "python_date_format": None, "extra": {},
    } for name, (label, expression) in {**vocab_columns(contract), **dataset.computed}.items()]
    metrics = [{
        "metric_name": name, "verbose_name": label, "metric_type": None, "expression": expression,
        "description": None, "d3format": d3format, "currency": None, "extra": {}, "warning_text": None,
    } for name, (label, expression, d3format) in dataset.metrics.items()]
    return {
        "table_name": dataset.table, "main_dttm_col": dataset.dttm, "description": dataset.description,
        "default_endpoint": None, "offset": 0, "cache_timeout": None, "catalog": None, "schema": "marts",
        "sql": None, "params": None, "template_params": None, "filter_select_enabled": True,
        "fetch_values_predicate": None, "extra": None, "normalize_columns": False, "always_filter_main_dttm": False,
        "uuid": dataset.uuid, "metrics": metrics, "columns": columns, "version": "1.0.0",
        "database_uuid": DATABASE_UUID,
    }


def chart_doc(chart: Chart) -> dict[str, Any]:
    dataset = BY_KEY[chart.dataset]
    filters = list(chart.filters)
    if dataset.dttm:
        filters.insert(0, {"clause": "WHERE", "expressionType": "SIMPLE", "subject": dataset.dttm,
                           "operator": "TEMPORAL_RANGE", "comparator": NO_TIME_FILTER})
    params = {"viz_type": chart.viz, "adhoc_filters": filters, "time_range": NO_TIME_FILTER,
              "color_scheme": "supersetColors", "extra_form_data": {}, "annotation_layers": [],
              **{k: v for k, v in chart.params.items() if v is not None}}
    return {
        "slice_name": chart.name, "description": chart.description, "certified_by": None,
        "certification_details": None, "viz_type": chart.viz, "params": params, "query_context": None,
        "cache_timeout": None, "uuid": chart.uuid, "version": "1.0.0", "dataset_uuid": dataset.uuid,
    }


def dashboard_doc(dashboard: Dashboard) -> dict[str, Any]:
    """Position (header, grid, rows of charts) and metadata, with chart ids local to the bundle."""
    local_ids = {key: number for number, key in enumerate(CHART_BY_KEY, start=1)}
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"children": ["GRID_ID"], "id": "ROOT_ID", "type": "ROOT"},
        "HEADER_ID": {"id": "HEADER_ID", "meta": {"text": dashboard.title}, "type": "HEADER"},
        "GRID_ID": {"children": [], "id": "GRID_ID", "parents": ["ROOT_ID"], "type": "GRID"},
    }
    for row_no, row in enumerate(dashboard.rows, start=1):
        row_id = f"ROW-{dashboard.key}-{row_no}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {"children": [], "id": row_id, "meta": {"background": "BACKGROUND_TRANSPARENT"},
                            "parents": ["ROOT_ID", "GRID_ID"], "type": "ROW"}
        for key in row:
            chart = CHART_BY_KEY[key]
            chart_id = f"CHART-{key}"
            position[row_id]["children"].append(chart_id)
            position[chart_id] = {"children": [], "id": chart_id, "parents": ["ROOT_ID", "GRID_ID", row_id],
                                  "type": "CHART", "meta": {"chartId": local_ids[key], "height": chart.height,
                                                            "width": chart.width, "sliceName": chart.name,
                                                            "uuid": chart.uuid}}
    filters = []
    if dashboard.region_filter:
        filters.append({
            "id": "NATIVE_FILTER-region_code", "name": "시군구 (코드)", "filterType": "filter_select",
            "type": "NATIVE_FILTER",
            "description": "한 시군구를 고릅니다 (참여자가 많은 순). 비워 두면 볼 수 있는 모든 지역의 합계입니다 "
                           "(지자체 담당자는 자기 시군구만 봅니다).",
            "targets": [{"datasetUuid": BY_KEY["overview"].uuid, "column": {"name": "region_code"}}],
            "controlValues": {"enableEmptyFilter": False, "defaultToFirstItem": False, "multiSelect": False,
                              "searchAllOptions": False, "inverseSelection": False, "sortAscending": False},
            "sortMetric": "participants", "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
            "cascadeParentIds": [], "adhoc_filters": [], "time_range": NO_TIME_FILTER,
            "scope": {"rootPath": ["ROOT_ID"], "excluded": [local_ids[k] for k in dashboard.filter_excluded]},
        })
    metadata = {
        "color_scheme": "supersetColors", "refresh_frequency": 0, "expanded_slices": {}, "label_colors": {},
        "shared_label_colors": [], "map_label_colors": {}, "color_scheme_domain": [], "timed_refresh_immune_slices": [],
        "cross_filters_enabled": False, "default_filters": "{}", "chart_configuration": {},
        "global_chart_configuration": {}, "native_filter_configuration": filters,
    }
    return {
        "dashboard_title": dashboard.title, "description": None, "css": "", "slug": dashboard.slug,
        "certified_by": None, "certification_details": None, "published": True, "uuid": dashboard.uuid,
        "position": position, "metadata": metadata, "version": "1.0.0",
    }


def render() -> dict[str, str]:
    """{path inside bundle/: YAML text} for the whole bundle."""
    contracts = mart_contracts()
    missing = [d.table for d in DATASETS if d.table not in contracts]
    if missing:
        raise SystemExit(f"marts without a dbt contract YAML: {missing}")
    docs: dict[str, Any] = {
        "metadata.yaml": {"version": "1.0.0", "type": "assets", "timestamp": "2026-01-01T00:00:00+00:00"},
        "databases/hometown_warehouse.yaml": database_doc(),
    }
    for dataset in DATASETS:
        docs[f"datasets/hometown_warehouse/{dataset.table}.yaml"] = dataset_doc(dataset, contracts[dataset.table])
    for chart in CHARTS:
        docs[f"charts/{chart.key}.yaml"] = chart_doc(chart)
    for dashboard in DASHBOARDS:
        docs[f"dashboards/{dashboard.key}.yaml"] = dashboard_doc(dashboard)
    header = "# Generated by superset/build_bundle.py from its declarations and the dbt mart contracts.\n"
    return {path: header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=110)
            for path, doc in docs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when bundle/ is not what the code renders")
    args = parser.parse_args()
    rendered = render()
    existing = {p.relative_to(BUNDLE).as_posix(): p.read_text(encoding="utf-8") for p in BUNDLE.rglob("*.yaml")}
    if args.check:
        stale = sorted(set(rendered) ^ set(existing) | {p for p in rendered if rendered[p] != existing.get(p)})
        if stale:
            print(f"bundle/ is stale, run superset/build_bundle.py: {stale}", file=sys.stderr)
            return 1
        return 0
    for path in set(existing) - set(rendered):
        (BUNDLE / path).unlink()
    for path, text in rendered.items():
        target = BUNDLE / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if existing.get(path) != text:
            target.write_text(text, encoding="utf-8")
    print(f"bundle/: {len(rendered)} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
