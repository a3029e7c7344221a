"""A plausible community for the demo users, made deterministically from a seed.

Posts on the boards of the demo users' hometowns (most of all 의성군), on the Q&A, mentor and mission
type boards; comments and replies; likes and follows; mentor and mentee profiles, requests answered and
not, mentorships with check-ins, one ended with feedback; a few spam and abusive posts held by the screen,
reports, and moderator decisions on some of them. Timestamps are spread over the last `days` days, so
the weekly marts have something to show.

Call after the demo generator, in one transaction:

    from ai.moderation import get_screen
    from core.community_demo import remove_demo_community, seed_community
    with engine.begin() as conn:
        summary = seed_community(conn, seed=20261125, screen=get_screen())

`screen` is the moderation screen (any object whose `.screen(text)` returns `score`, `reasons`, `engine`
and `held`): core does not import ai, so the caller passes it; without one, the posts written as spam
are held with the reason "demo: written as spam". `remove_demo_community(conn)` takes it all out again
and must run before the demo users are deleted (their rows reference them).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, text

from core.community_texts import HELD_BY_SCREEN
from core.korean import josa
from core.markdown import render_markdown


class Screened(Protocol):
    score: float
    reasons: list[str]
    engine: str

    @property
    def held(self) -> bool: ...


class Screen(Protocol):
    def screen(self, text: str) -> Screened: ...


QUESTIONS = [
    ("{region}에서 {skill} 배울 곳 있을까요?",
     "내년에 {region_ro} 귀향하려고 해요. {skill_eul} 배우고 싶은데 주말에 다닐 수 있는 곳이 있을까요?"),
    ("{region} 빈집 구할 때 주의할 점",
     "{region} 읍내 근처 빈집을 보고 있어요. 등기랑 수리비 말고 또 확인할 게 있을까요?"),
    ("{region} 청년 모임 있나요?", "{region}에 이사 온 지 3개월 됐어요. 또래 모임이 있으면 참여하고 싶어요."),
    ("{region} 겨울 난방비 얼마나 나오나요?", "단독주택 기준으로 기름보일러 쓰시는 분들 한 달 난방비가 궁금해요."),
    ("{region} 귀농 교육 후기", "군청에서 하는 귀농 교육 5주 과정 들었어요. 현장 실습이 제일 도움이 됐습니다."),
]
STORIES = [
    ("{region} {skill} 재능기부 다녀왔어요",
     "마을회관에서 {skill} 재능기부를 했어요. 어르신들이 정말 좋아하셨어요. 다음 달에도 갈 예정입니다."),
    ("{region} 탐색 미션 완료!", "QR 체크인 세 곳을 다 돌았어요. 생각보다 볼 게 많네요. **강력 추천**합니다."),
    ("{region}에서 한 달 살기 후기", "한 달 살아 보니 조용하고 사람들이 따뜻해요. 버스가 적은 건 아쉬워요."),
    ("{region} 축제 봉사 사진", "축제 안내 부스에서 봉사했어요. 외지 분들이 생각보다 많이 오셨어요."),
]
COMMENTS = ["저도 궁금했어요!", "좋은 정보 감사합니다.", "다음엔 같이 가요.",
            "군청 귀농귀촌센터에 물어보시면 친절하게 알려줘요.", "저는 작년에 해 봤는데 추천해요.",
            "사진도 올려 주세요!", "주말에 시간 되시면 연락 주세요."]
REPLIES = ["감사합니다!", "네, 꼭 같이 가요.", "좋아요, 쪽지 드릴게요."]
SPAM = [
    ("★무직자 당일 대출★",
     "신용불량 OK 대출 즉시 승인!! 카톡 loan7777 문의 http://fast-loan.xyz http://fast-loan.xyz/a "
     "http://fast-loan.xyz/b"),
    ("카지노 첫충 이벤트", "신규 가입 시 첫충 30% 지급 www.lucky-casino77.xyz 텔레그램 @casino_vip_kr"),
    ("월 500 부업",
     "하루 30분 투자로 월 500!! 텔레그램 @easy_money_kr 으로 연락 주세요 http://side.win http://side.win/a "
     "http://side.win/b"),
]
ABUSE = [("답답하네", "이런 걸 질문이라고 올리냐 병신아 꺼져라")]
MENTOR_HEADLINES = ["{region} 귀향 {years}년 차, {skill} 멘토", "{skill} {years}년 경력, {region}에서 활동 중",
                    "{region} 토박이, {skill} 가르쳐 드려요"]


@dataclass
class CommunitySummary:
    posts: int = 0
    held: int = 0
    comments: int = 0
    mentor_profiles: int = 0
    mentee_profiles: int = 0
    requests: int = 0
    mentorships: int = 0
    reports: int = 0
    actions: int = 0
    boards: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DemoUser:
    id: uuid.UUID
    user_type: str | None
    hometown: str | None
    skills: list[str]
    roles: list[str]


def remove_demo_community(conn: Connection) -> None:
    """Delete every community row that demo users wrote or that concerns them (children first)."""
    demo = "select id from app.users where is_demo"
    demo_posts = f"select id from app.posts where author_id in ({demo})"
    demo_actions = f"select id from app.moderation_actions where target_user_id in ({demo}) or moderator_id in ({demo})"
    statements = [
        f"delete from app.appeals where appellant_id in ({demo}) or action_id in ({demo_actions})",
        f"delete from app.user_sanctions where user_id in ({demo}) or action_id in ({demo_actions})",
        f"delete from app.reports where reporter_id in ({demo}) or target_id in ({demo_posts})",
        f"delete from app.moderation_actions where target_user_id in ({demo}) or moderator_id in ({demo})",
        f"delete from app.moderation_cases where target_user_id in ({demo})",
        f"delete from app.post_likes where user_id in ({demo}) or post_id in ({demo_posts})",
        f"delete from app.follows where user_id in ({demo}) or post_id in ({demo_posts})",
        f"delete from app.comments where parent_id is not null and (author_id in ({demo}) "
        f"or post_id in ({demo_posts}))",
        f"delete from app.comments where author_id in ({demo}) or post_id in ({demo_posts})",
        f"delete from app.post_revisions where post_id in ({demo_posts})",
        f"delete from app.posts where author_id in ({demo})",
        f"delete from app.mentorship_feedback where author_id in ({demo})",
        f"delete from app.mentorship_checkins where author_id in ({demo})",
        f"delete from app.mentorships where mentor_id in ({demo}) or mentee_id in ({demo})",
        f"delete from app.mentor_requests where mentor_id in ({demo}) or mentee_id in ({demo})",
        f"delete from app.mentor_profiles where user_id in ({demo})",
        f"delete from app.mentee_profiles where user_id in ({demo})",
        "delete from app.rate_limit_hits where split_part(bucket, ':', 2) in (select id::text from app.users "
        "where is_demo)",
    ]
    for statement in statements:
        conn.execute(text(statement))
    # a real user's case that a demo moderator closed has lost its closing action: back to the queue
    conn.execute(text(
        "update app.moderation_cases c set status = 'open', closed_at = null, closing_action_id = null "
        "where c.closing_action_id is not null "
        "and not exists (select from app.moderation_actions a where a.id = c.closing_action_id) "
        "and not exists (select from app.moderation_cases o where o.status = 'open' "
        "and o.target_type = c.target_type and o.target_id = c.target_id)"))


def _users(conn: Connection) -> list[DemoUser]:
    rows = conn.execute(text("select id, user_type, hometown_region_code, skills, roles from app.users "
                             "where is_demo and is_active order by email")).all()
    return [DemoUser(r.id, r.user_type, r.hometown_region_code, list(r.skills), list(r.roles)) for r in rows]


def _names(conn: Connection) -> dict[str, str]:
    return dict(conn.execute(text("select region_code, sgg_name from raw.regions")).all())  # type: ignore[arg-type]


def _ensure_boards(conn: Connection, codes: Sequence[str]) -> None:
    conn.execute(text(
        "insert into app.boards (id, kind, name, description, region_code, sido_code, position) "
        "select 'sgg-' || region_code, 'sigungu', full_name, sgg_name || '에 사는, 오고 싶은 사람들의 게시판', "
        "region_code, sido_code, 1000 from raw.regions where region_code = any(:codes) "
        "on conflict (id) do nothing"), {"codes": list(codes)})


class _Writer:
    """Inserts rows with timestamps on a deterministic timeline."""

    def __init__(self, conn: Connection, rng: random.Random, screen: Screen | None, now: datetime, days: int):
        self.conn, self.rng, self.screen, self.now, self.days = conn, rng, screen, now, days
        self.summary = CommunitySummary()

    def moment(self, after: datetime | None = None, within_hours: float = 72) -> datetime:
        if after is None:
            return self.now - timedelta(days=self.rng.uniform(1, self.days))
        return min(self.now, after + timedelta(hours=self.rng.uniform(0.2, within_hours)))

    def _screened(self, title: str, body: str, spam: bool) -> tuple[str, float | None, list[str], str | None]:
        if self.screen is not None:
            result = self.screen.screen(f"{title}\n{body}".strip())
            return ("held" if result.held else "published"), result.score, list(result.reasons), result.engine
        return ("held" if spam else "published"), None, ["demo: written as spam"] if spam else [], None

    def post(self, author: uuid.UUID, board: str, region: str | None, title: str, body: str, tags: list[str],
             spam: bool = False) -> tuple[uuid.UUID, str, datetime]:
        at = self.moment()
        status, score, reasons, engine = self._screened(title, body, spam)
        rendered = render_markdown(body)
        post_id: uuid.UUID = self.conn.execute(text(
            "insert into app.posts (board_id, author_id, title, body_md, body_html, body_text, tags, region_code, "
            "status, screen_score, screen_reasons, screen_engine, status_reason, created_at, updated_at, "
            "published_at) values (:b, :a, :t, :md, :html, :txt, :tags, :r, :s, :score, :reasons, :engine, "
            ":reason, :at, :at, :published) returning id"),
            {"b": board, "a": author, "t": title, "md": body, "html": rendered.html, "txt": rendered.text,
             "tags": tags, "r": region, "s": status, "score": score, "reasons": reasons, "engine": engine,
             "reason": HELD_BY_SCREEN if status == "held"
             else None, "at": at, "published": at if status == "published" else None}).scalar_one()
        self.conn.execute(text("insert into app.follows (user_id, post_id, created_at) values (:u, :p, :at)"),
                          {"u": author, "p": post_id, "at": at})
        if status == "held":
            self.summary.held += 1
            self.conn.execute(text(
                "insert into app.moderation_cases (target_type, target_id, target_user_id, opened_by, severity, "
                "screen_score, screen_reasons, opened_at) values ('post', :p, :u, 'screen', 2, :score, :reasons, "
                ":at)"), {"p": post_id, "u": author, "score": score, "reasons": reasons, "at": at})
        self.summary.posts += 1
        return post_id, status, at

    def comment(self, post_id: uuid.UUID, author: uuid.UUID, body: str, at: datetime,
                parent: uuid.UUID | None = None) -> uuid.UUID:
        rendered = render_markdown(body)
        self.summary.comments += 1
        return self.conn.execute(text(  # type: ignore[no-any-return]
            "insert into app.comments (post_id, parent_id, author_id, body_md, body_html, body_text, created_at, "
            "updated_at) values (:p, :parent, :a, :md, :html, :txt, :at, :at) returning id"),
            {"p": post_id, "parent": parent, "a": author, "md": body, "html": rendered.html, "txt": rendered.text,
             "at": at}).scalar_one()


def seed_community(conn: Connection, seed: int = 20261125, screen: Screen | None = None, days: int = 84,
                   now: datetime | None = None) -> CommunitySummary:
    """Replace the demo community with a new one made from `seed` (same seed, same community)."""
    remove_demo_community(conn)
    rng = random.Random(seed)
    users = _users(conn)
    app_users = [u for u in users if u.user_type]
    if len(app_users) < 10:
        return CommunitySummary()
    names = _names(conn)
    writer = _Writer(conn, rng, screen, (now or datetime.now(UTC)).replace(microsecond=0), days)
    hometowns = sorted({u.hometown for u in app_users if u.hometown and u.hometown in names},
                       key=lambda code: (code != "47730", code))
    regions = hometowns[:12] or ["47730"]
    _ensure_boards(conn, regions)
    writer.summary.boards = [f"sgg-{code}" for code in regions]
    posts = _write_posts(writer, app_users, regions, names)
    _write_comments(writer, app_users, posts)
    _write_mentoring(writer, app_users, names)
    _write_moderation(writer, users, app_users)
    conn.execute(text("update app.posts p set comment_count = (select count(*) from app.comments c "
                      "where c.post_id = p.id and c.status = 'published'), like_count = (select count(*) "
                      "from app.post_likes l where l.post_id = p.id) where p.author_id in "
                      "(select id from app.users where is_demo)"))
    return writer.summary


def _fill(region: str, skill: str) -> dict[str, str]:
    """Template values, with the particles that follow them chosen for the word (서울로, 목공을)."""
    return {"region": region, "skill": skill, "region_ro": josa(region, "으로", "로"),
            "skill_eul": josa(skill, "을", "를")}


def _write_posts(writer: _Writer, users: list[DemoUser], regions: list[str],
                 names: dict[str, str]) -> list[tuple[uuid.UUID, str, datetime]]:
    rng, out = writer.rng, []
    for index, code in enumerate(regions):
        locals_ = [u for u in users if u.hometown == code] or users
        for _ in range(6 if index == 0 else 3):
            author = rng.choice(locals_)
            skill = rng.choice(author.skills or ["목공"])
            title, body = rng.choice(QUESTIONS + STORIES)
            fill = _fill(names.get(code, code), skill)
            out.append(writer.post(author.id, f"sgg-{code}", code, title.format(**fill), body.format(**fill),
                                   [skill, "귀향"]))
    for board, template in (("qna", QUESTIONS), ("general", STORIES), ("type-skill", STORIES),
                            ("type-exploration", STORIES), ("mentor", QUESTIONS)):
        for _ in range(3):
            author = rng.choice(users)
            code = author.hometown if author.hometown in names else regions[0]
            title, body = rng.choice(template)
            fill = _fill(names.get(code, code), rng.choice(author.skills or ["요리"]))
            out.append(writer.post(author.id, board, code, title.format(**fill), body.format(**fill), []))
    spammers = rng.sample(users, k=len(SPAM) + len(ABUSE))
    for author, (title, body) in zip(spammers, SPAM + ABUSE, strict=True):
        writer.post(author.id, f"sgg-{regions[0]}", regions[0], title, body, [], spam=True)
    return [p for p in out if p[1] == "published"]


def _write_comments(writer: _Writer, users: list[DemoUser],
                    posts: list[tuple[uuid.UUID, str, datetime]]) -> None:
    rng, conn = writer.rng, writer.conn
    for post_id, _, at in posts:
        for _ in range(rng.randint(0, 4)):
            author = rng.choice(users)
            when = writer.moment(at)
            comment_id = writer.comment(post_id, author.id, rng.choice(COMMENTS), when)
            if rng.random() < 0.3:
                writer.comment(post_id, rng.choice(users).id, rng.choice(REPLIES), writer.moment(when, 24),
                               comment_id)
        for liker in rng.sample(users, k=rng.randint(0, 6)):
            conn.execute(text("insert into app.post_likes (post_id, user_id, created_at) values (:p, :u, :at) "
                              "on conflict do nothing"), {"p": post_id, "u": liker.id, "at": writer.moment(at)})


def _write_mentoring(writer: _Writer, users: list[DemoUser], names: dict[str, str]) -> None:
    rng, conn, summary = writer.rng, writer.conn, writer.summary
    mentors = [u for u in users if u.user_type == "mentor" and u.skills][:15]
    mentees = [u for u in users if u.user_type in ("youth", "returnee") and u.hometown][:25]
    for mentor in mentors:
        code = mentor.hometown if mentor.hometown in names else "47730"
        fill = {**_fill(names.get(code, code), mentor.skills[0]), "years": rng.randint(2, 12)}
        conn.execute(text(
            "insert into app.mentor_profiles (user_id, headline, bio, skills, region_codes, availability, capacity) "
            "values (:u, :h, :b, :s, :r, :a, :c)"),
            {"u": mentor.id, "h": rng.choice(MENTOR_HEADLINES).format(**fill),
             "b": f"{fill['region']}에서 {fill['skill']} 일을 하고 있어요. 처음 오시는 분들을 돕고 싶어요.",
             "s": mentor.skills[:4], "r": [code], "a": rng.sample(["weekday_evening", "weekend", "online"], k=2),
             "c": rng.randint(2, 4)})
        summary.mentor_profiles += 1
    active: dict[uuid.UUID, int] = {}
    for mentee in mentees:
        borrowed = rng.random() < 0.3 or not mentee.skills  # some want a skill they do not have yet
        wanted = rng.sample(rng.choice(mentors).skills if mentors else ["목공"], k=1) if borrowed \
            else mentee.skills[:1]
        conn.execute(text("insert into app.mentee_profiles (user_id, needs, skills, region_codes, availability) "
                          "values (:u, :n, :s, :r, :a)"),
                     {"u": mentee.id, "n": f"{names.get(mentee.hometown or '', '고향')}에 정착하면서 "
                      f"{josa(wanted[0], '을', '를')} 배우고 싶어요",
                      "s": wanted, "r": [mentee.hometown], "a": ["weekend"]})
        summary.mentee_profiles += 1
        if not mentors or rng.random() < 0.3:
            continue
        mentor = rng.choice(mentors)
        _request(writer, mentee, mentor, active)


def _request(writer: _Writer, mentee: DemoUser, mentor: DemoUser, active: dict[uuid.UUID, int]) -> None:
    rng, conn = writer.rng, writer.conn
    at = writer.moment()
    roll = rng.random()
    status = "pending" if roll < 0.2 else "declined" if roll < 0.35 else "accepted"
    if status == "accepted" and active.get(mentor.id, 0) >= 2:
        status = "declined"
    answered = None if status == "pending" else writer.moment(at, 96)
    request_id: uuid.UUID = conn.execute(text(
        "insert into app.mentor_requests (mentee_id, mentor_id, message, goals, status, created_at, responded_at) "
        "values (:e, :m, '멘토링 부탁드려요', :g, :s, :at, :r) returning id"),
        {"e": mentee.id, "m": mentor.id, "g": ["정착 준비"], "s": status, "at": at, "r": answered}).scalar_one()
    writer.summary.requests += 1
    if status != "accepted" or answered is None:
        return
    active[mentor.id] = active.get(mentor.id, 0) + 1
    ended = rng.random() < 0.25
    mentorship_id: uuid.UUID = conn.execute(text(
        "insert into app.mentorships (request_id, mentor_id, mentee_id, goals, region_code, starts_on, ends_on, "
        "status, ended_at, ended_by, end_reason, created_at) values (:r, :m, :e, :g, :region, :start, :end, :s, "
        ":ended_at, :ended_by, :reason, :at) returning id"),
        {"r": request_id, "m": mentor.id, "e": mentee.id, "g": ["정착 준비"], "region": mentee.hometown,
         "start": answered.date(), "end": answered.date() + timedelta(weeks=12), "s": "ended" if ended else "active",
         "ended_at": writer.moment(answered, 24 * 30) if ended else None, "ended_by": mentee.id if ended else None,
         "reason": "목표 달성" if ended else None, "at": answered}).scalar_one()
    writer.summary.mentorships += 1
    for week in range(rng.randint(1, 3)):
        conn.execute(text("insert into app.mentorship_checkins (mentorship_id, author_id, note, created_at) "
                          "values (:m, :a, :n, :at)"),
                     {"m": mentorship_id, "a": mentor.id, "n": f"{week + 1}주 차 점검",
                      "at": min(writer.now, answered + timedelta(weeks=week + 1))})
    if ended:
        conn.execute(text("insert into app.mentorship_feedback (mentorship_id, author_id, rating, comment) "
                          "values (:m, :a, :r, '큰 도움이 됐어요')"), {"m": mentorship_id, "a": mentee.id,
                                                                     "r": rng.randint(4, 5)})


def _write_moderation(writer: _Writer, users: list[DemoUser], app_users: list[DemoUser]) -> None:
    """Reports on some held posts, and a moderator's decision on most open cases."""
    conn, rng = writer.conn, writer.rng
    moderator = next((u.id for u in users if "moderator" in u.roles), None)
    cases = conn.execute(text(
        "select c.id, c.target_id, c.target_user_id, c.opened_at, p.title || E'\\n' || p.body_md as content "
        "from app.moderation_cases c join app.posts p on p.id = c.target_id "
        "where c.status = 'open' and c.target_user_id in (select id from app.users where is_demo) order by c.opened_at"
    )).all()
    for case in cases:
        reporters = [u for u in rng.sample(app_users, k=3) if u.id != case.target_user_id][:rng.randint(1, 2)]
        for reporter in reporters:
            conn.execute(text(
                "insert into app.reports (reporter_id, target_type, target_id, category, case_id, created_at) "
                "values (:r, 'post', :t, 'spam', :c, :at)"),
                {"r": reporter.id, "t": case.target_id, "c": case.id, "at": writer.moment(case.opened_at, 12)})
            writer.summary.reports += 1
        conn.execute(text("update app.moderation_cases set report_count = :n where id = :c"),
                     {"n": len(reporters), "c": case.id})
        if moderator is None or rng.random() < 0.3:
            continue  # left in the queue for the demo's moderator
        decided = writer.moment(case.opened_at, 30)
        action_id: int = conn.execute(text(
            "insert into app.moderation_actions (case_id, target_type, target_id, target_user_id, action, reason, "
            "moderator_id, content_text, report_category, created_at) values (:c, 'post', :t, :u, 'hide', "
            "'광고·도배 게시물', :m, :content, 'spam', :at) returning id"),
            {"c": case.id, "t": case.target_id, "u": case.target_user_id, "m": moderator, "content": case.content,
             "at": decided}).scalar_one()
        conn.execute(text("update app.posts set status = 'hidden', status_reason = '광고·도배 게시물', "
                          "status_changed_at = :at, status_changed_by = :m where id = :t"),
                     {"at": decided, "m": moderator, "t": case.target_id})
        conn.execute(text("update app.moderation_cases set status = 'closed', closed_at = :at, "
                          "closing_action_id = :a where id = :c"), {"at": decided, "a": action_id, "c": case.id})
        writer.summary.actions += 1


def summary_dict(summary: CommunitySummary) -> dict[str, Any]:
    return {name: getattr(summary, name) for name in summary.__dataclass_fields__}
