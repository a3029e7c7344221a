"""Rules of the moderation screen: what spam and abuse look like whatever the classifier has learned.

Each rule gives a signal with a weight in [0, 1] and a reason a moderator can read. Rules catch what a
small classifier misses (a new casino domain, a telegram handle) and explain themselves; they are kept
conservative (an ordinary post with one link or one phone number stays far below the hold threshold).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>()\"']+|\b[a-z0-9-]+\.(?:com|net|kr|xyz|top|win|shop|club|"
                 r"live|io|me|ly|org|biz|info)(?:/[^\s<>()\"']*)?\b")
SHORTENER = re.compile(r"(?i)\b(?:bit\.ly|goo\.gl|t\.co|tinyurl\.com|han\.gl|me2\.do|vo\.la|url\.kr)/")
MESSENGER = re.compile(r"(?i)(?:텔레그램|카톡|카카오톡|라인|\b(?:telegram|kakao|whatsapp|line)\b)"
                       r"\s*(?:id\s*:?)?\s*@?[a-z0-9_.]{3,}"
                       r"|\bt\.me/\w+|open\.kakao\.com/\S+|(?<![\w.])@[a-z][a-z0-9_]{3,}(?:_[a-z0-9]+)+")
PHONE = re.compile(r"(?<!\d)(?:01[016789][-. ]?\d{3,4}[-. ]?\d{4}|1[5-9]\d{2}-\d{4}|\+\d{1,3}[ -]?\d{2,4}"
                   r"[ -]?\d{3,4}[ -]?\d{3,4})(?!\d)")
SYMBOL_RUN = re.compile(r"([!★☆▶◀♥💰✅🔥])\1{2,}|[★☆▶◀💰🔥]")

SPAM_TERMS_KO = ("대출", "카지노", "토토", "바카라", "슬롯", "배팅", "베팅", "도박", "먹튀", "첫충", "19금",
                 "조건만남", "성인용품", "성인 영상", "성인 웹툰", "성인사이트", "비아그라", "리딩방", "총판",
                 "현금화", "급전", "무담보", "고수익", "수익 보장",
                 "수익보장", "가입코드", "추천인 코드", "홀덤", "경마", "레플리카", "폰테크", "작업대출", "상위노출",
                 "에어드랍", "환전", "무료 쿠폰", "선착순", "입금하면")
SPAM_TERMS_EN = ("casino", "viagra", "cialis", "payday loan", "free spins", "no deposit", "betting", "forex",
                 "guaranteed", "replica", "hot singles", "followers", "bitcoin", "crypto", "click here", "earn $",
                 "make $", "no credit check", "jackpot")
SLURS = ("병신", "ㅂㅅ", "시발", "씨발", "ㅅㅂ", "개새끼", "미친놈", "미친년", "정신병자", "좆", "fuck", "retard")
INSULTS = ("새끼", "꺼져", "닥쳐", "쓰레기 같은", "찐따", "벌레야", "죽어야", "한심", "무식", "idiot", "moron", "loser",
           "stupid", "worthless", "trash", "parasite", "shut up", "pathetic")
THREAT_TERMS = ("죽여", "가만 안 둔다", "가만두지 않", "찾아가서", "불태", "대가리 깨", "퍼뜨려", "kill yourself",
                "know where you live", "burn your house", "make you regret", "집 주소", "home address")


@dataclass(frozen=True)
class Signal:
    kind: str  # spam | abuse
    code: str  # stable key, e.g. links, spam_terms
    weight: float
    reason: str  # what a moderator reads


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _found(text: str, terms: tuple[str, ...]) -> list[str]:
    lower = text.lower()
    return [term for term in terms if term in lower]


def _link_signal(text: str) -> Signal | None:
    links = URL.findall(text)
    if len(links) >= 3:
        return Signal("spam", "links", 0.55, f"links: {len(links)} links")
    if len(links) == 2:
        return Signal("spam", "links", 0.2, "links: 2 links")
    return None


def _repetition_signal(text: str) -> Signal | None:
    words = [w for w in re.findall(r"[\w.:/]+", text.lower()) if len(w) >= 2]
    if len(words) < 4:
        return None
    word, count = Counter(words).most_common(1)[0]
    if count >= 3 and count / len(words) >= 0.2:
        return Signal("spam", "repetition", 0.4, f"repetition: '{word}' {count} times in {len(words)} words")
    return None


def _caps_signal(text: str) -> Signal | None:
    letters = [c for c in text if "a" <= c.lower() <= "z"]
    if len(letters) >= 20 and sum(c.isupper() for c in letters) / len(letters) >= 0.7:
        return Signal("spam", "all_caps", 0.3, "all_caps: mostly capital letters")
    return None


def rule_signals(text: str) -> list[Signal]:
    """Every rule that fires on `text` (title and body together)."""
    text = normalise(text)
    signals = [s for s in (_link_signal(text), _repetition_signal(text), _caps_signal(text)) if s]
    if SHORTENER.search(text):
        signals.append(Signal("spam", "shortener", 0.4, "shortener: a shortened link hides its target"))
    if handles := MESSENGER.findall(text):
        signals.append(Signal("spam", "messenger", 0.45, f"messenger: contact handle {handles[0].strip()!r}"))
    if phones := PHONE.findall(text):
        signals.append(Signal("spam", "phone", 0.25, f"phone: {len(phones)} phone number(s)"))
    if len(SYMBOL_RUN.findall(text)) >= 2:
        signals.append(Signal("spam", "symbols", 0.2, "symbols: runs of ★, ! or ▶ used as attention bait"))
    if terms := _found(text, SPAM_TERMS_KO + SPAM_TERMS_EN):
        weight = min(0.75, 0.35 * len(terms))
        signals.append(Signal("spam", "spam_terms", weight, f"spam_terms: {', '.join(terms[:5])}"))
        if URL.search(text) or MESSENGER.search(text) or PHONE.search(text):  # an offer plus a way to reach it
            signals.append(Signal("spam", "offer_with_contact", 0.5, "offer_with_contact: spam terms next to a "
                                  "link, handle or phone number"))
    if terms := _found(text, SLURS):  # a slur aimed at someone is enough on its own
        signals.append(Signal("abuse", "slurs", 0.75, f"slurs: {', '.join(terms[:5])}"))
    if terms := _found(text, INSULTS):
        weight = min(0.7, 0.4 * len(terms))
        signals.append(Signal("abuse", "abusive_terms", weight, f"abusive_terms: {', '.join(terms[:5])}"))
    if terms := _found(text, THREAT_TERMS):
        signals.append(Signal("abuse", "threat", 0.7, f"threat: {', '.join(terms[:3])}"))
    return signals


def combined(signals: list[Signal], kind: str) -> float:
    """Noisy-OR of the weights of one kind: independent pieces of evidence add up, never past 1."""
    remaining = 1.0
    for signal in signals:
        if signal.kind == kind:
            remaining *= 1.0 - signal.weight
    return 1.0 - remaining
