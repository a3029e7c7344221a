"""The moderation screen on real texts (none of them in the seed set), its classifier, its training data
from the platform's decisions, and the OpenAI engine's use and fallback."""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, text

from ai.moderation.classifier import Example, ModerationModel, cross_validate, load_current, train
from ai.moderation.dataset import decision_examples, seed_examples
from ai.moderation.rules import rule_signals
from ai.moderation.screen import HOLD_THRESHOLD, LocalScreen, OpenAIScreen, get_screen
from core.accounts import NewUser, create_users
from core.settings import Settings

SPAM = [
    "🔥오늘만🔥 무직자 주부 당일 대출 300 가능 카톡 cash0011 바로 상담",
    "신규 카지노 오픈 기념 첫충 50% 이벤트 www.lucky-casino88.xyz 가입코드 LUCKY",
    "토토 안전놀이터 먹튀 검증 완료!! 텔레그램 @safe_toto_kr 으로 문의 주세요",
    "WIN BIG AT OUR ONLINE CASINO TONIGHT!!! FREE SPINS FOR NEW PLAYERS http://spin-win.top",
    "부업 하실 분 하루 1시간 월 400 보장 http://side-job.win http://side-job.win/apply http://side-job.win/now",
]
ABUSE = [
    "이 병신 같은 놈아 다시는 글 쓰지 마라",
    "너 어디 사는지 다 안다 찾아가서 가만 안 둔다",
    "You stupid idiot, nobody wants your garbage posts here",
]
ORDINARY = [
    "의성군 게시판에 처음 글 써요. 내년 봄에 귀향하려고 하는데 빈집 구하는 팁이 있을까요?",
    "지난 토요일 마늘 수확 봉사 다녀왔어요. 어르신들이 점심까지 챙겨 주셔서 감동했습니다.",
    "목공 2단계 인증 받으신 분, 공방 장비는 어떤 걸 먼저 사셨나요?",
    "군청 귀농 상담 전화번호가 054-830-6000 맞나요? 오늘 통화가 안 돼서요.",
    "청년 창업 지원사업 공고 링크 공유합니다 https://www.gb.go.kr/notice 마감이 다음 주예요.",
    "Moved to Andong last year; happy to answer questions about renting an old hanok.",
    "좋은 정보 감사합니다!",
]


@pytest.fixture(scope="module")
def model() -> ModerationModel:
    return train(seed_examples(), evaluate=False)


@pytest.fixture(scope="module")
def screen(model: ModerationModel) -> LocalScreen:
    return LocalScreen(model)


@pytest.mark.parametrize("body", SPAM)
def test_spam_is_held_with_reasons(screen: LocalScreen, body: str) -> None:
    result = screen.screen(body)
    assert result.held and result.label == "spam", (result.score, result.reasons)
    assert result.reasons and result.engine.startswith("local-charngram-logreg@")


@pytest.mark.parametrize("body", ABUSE)
def test_abuse_is_held_with_reasons(screen: LocalScreen, body: str) -> None:
    result = screen.screen(body)
    assert result.held and result.label == "abuse", (result.score, result.reasons)


@pytest.mark.parametrize("body", ORDINARY)
def test_ordinary_posts_pass(screen: LocalScreen, body: str) -> None:
    result = screen.screen(body)
    assert not result.held and result.score < HOLD_THRESHOLD, (body, result.score, result.reasons)


def test_rules_explain_themselves() -> None:
    codes = {s.code: s.reason for s in rule_signals(
        "대출 문의 010-1234-5678 텔레그램 @fast_money_kr http://a.xyz http://b.xyz http://bit.ly/x ★★★ 대박!!!")}
    assert {"links", "shortener", "messenger", "phone", "symbols", "spam_terms", "offer_with_contact"} <= set(codes)
    assert codes["links"] == "links: 3 links" and "@fast_money_kr" in codes["messenger"]
    assert rule_signals("의성 사과 축제에 같이 가요. 토요일 오전 10시 군청 앞.") == []


def test_cross_validated_quality_on_the_seed() -> None:
    metrics = cross_validate(seed_examples())
    assert metrics["precision"] >= 0.85 and metrics["recall"] >= 0.85, metrics
    assert metrics["recall_spam"] >= 0.85, metrics


def test_the_model_saves_loads_and_scores_the_same(tmp_path: Path, model: ModerationModel) -> None:
    model.save(tmp_path)
    loaded = load_current(tmp_path)
    assert loaded.version == model.version and loaded.training_size == len(seed_examples())
    texts = SPAM + ORDINARY
    assert (loaded.predict_proba(texts).round(6) == model.predict_proba(texts).round(6)).all()
    retrained = train([*seed_examples(), Example("의성 흑마늘 공동구매 문의 환영합니다", "spam", "decision")],
                      evaluate=False)
    assert retrained.version != model.version


def test_decisions_become_labelled_examples(engine: Engine) -> None:
    with engine.begin() as conn:
        author, moderator = create_users(conn, [
            NewUser(email=f"a-{uuid.uuid4().hex[:8]}@test.kr", display_name="작성자", password_hash="x"),
            NewUser(email=f"m-{uuid.uuid4().hex[:8]}@test.kr", display_name="운영자", password_hash="x",
                    roles=["moderator"])])
    rows = [("hide", "spam", None, "흑마늘 도매 특가 연락 주세요 사이트 방문"),
            ("hide", "harassment", None, "너는 여기 오지 마라"),
            ("dismiss", None, None, "의성 카페 추천해요"),
            ("hide", "abuse", "now()", "오해로 숨겨진 글"),
            ("hide", "misinformation", None, "사실과 다른 글")]
    with engine.begin() as conn:
        for action, category, reverted, content in rows:
            conn.execute(text(
                "insert into app.moderation_actions (target_type, target_id, target_user_id, action, reason, "
                f"moderator_id, content_text, report_category, reverted_at) values ('post', gen_random_uuid(), :u, "
                f":a, 'test', :m, :c, :cat, {reverted or 'null'})"),
                {"u": author, "a": action, "m": moderator, "c": content, "cat": category})
    with engine.connect() as conn:
        labelled = {e.text: e.label for e in decision_examples(conn)}
    assert labelled["흑마늘 도매 특가 연락 주세요 사이트 방문"] == "spam"
    assert labelled["너는 여기 오지 마라"] == "abuse"
    assert labelled["의성 카페 추천해요"] == "ok"
    assert labelled["오해로 숨겨진 글"] == "ok"  # overturned on appeal
    assert "사실과 다른 글" not in labelled


class FakeModerations:
    """Stands in for OpenAI's moderation endpoint (an external service; nothing of ours is faked)."""

    def __init__(self, scores: dict[str, float] | None, error: Exception | None = None) -> None:
        self.scores, self.error, self.calls = scores, error, 0

    def create(self, model: str, input: str) -> Any:  # the SDK names the parameter `input`
        self.calls += 1
        if self.error:
            raise self.error
        scores = SimpleNamespace(model_dump=lambda: dict(self.scores or {}))
        return SimpleNamespace(results=[SimpleNamespace(category_scores=scores)])


def openai_settings(tmp_path: Path) -> Settings:
    return Settings(HOMETOWN_VAR_DIR=tmp_path, OPENAI_API_KEY="sk-test-not-used")  # type: ignore[call-arg]


def test_openai_scores_abuse_and_the_local_engine_spam(tmp_path: Path, model: ModerationModel) -> None:
    model.save(tmp_path / "models")
    fake = FakeModerations({"harassment": 0.93, "hate": 0.02, "violence": 0.01})
    screen = get_screen(openai_settings(tmp_path), client=SimpleNamespace(moderations=fake))
    assert isinstance(screen, OpenAIScreen)
    result = screen.screen("너 같은 사람은 여기 필요 없어")
    assert fake.calls == 1 and result.held and result.label == "abuse"
    assert "openai: harassment 0.93" in result.reasons and result.engine.startswith("openai:")
    spam = screen.screen(SPAM[0])
    assert spam.held and spam.label == "spam"


def test_openai_failure_falls_back_to_the_local_engine(tmp_path: Path, model: ModerationModel) -> None:
    model.save(tmp_path / "models")
    fake = FakeModerations(None, ConnectionError("no route to host"))
    result = get_screen(openai_settings(tmp_path), client=SimpleNamespace(moderations=fake)).screen(SPAM[1])
    assert result.held and result.engine.startswith("local-charngram-logreg@")
    assert result.fallback_reason and "ConnectionError" in result.fallback_reason
