"""Korean particles (조사) chosen by the word they follow, instead of "을(를)"-style placeholders.

`josa("경상북도", "을", "를")` is "경상북도를"; `josa("의성군", "을", "를")` is "의성군을". The choice follows
the final consonant (받침) of the word's last syllable: the first form after a consonant, the second after a
vowel. For 으로/로 a ㄹ-final word takes 로 ("서울로"), as it does for every 으-initial form (으로서, 으로써).

The last character that is read decides: a trailing parenthetical is skipped ("포도(葡萄)" reads as 포도), and
a number is read the Korean way ("3" 삼, "10" 십, "2" 이). When the word ends in anything else (Latin letters,
symbols) the combined placeholder ("을(를)") is kept rather than guessed.
"""

from __future__ import annotations

HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3
RIEUL = 8  # index of ㄹ among the final consonants
# final consonant of the Korean reading of the last digit: 영 일 이 삼 사 오 육 칠 팔 구 (0 means none)
_DIGIT_FINAL = {"0": 21, "1": RIEUL, "2": 0, "3": 16, "4": 0, "5": 0, "6": 1, "7": RIEUL, "8": RIEUL, "9": 0}
# a number ending in zeros is read by its last unit: 십 백 천 만
_TENS_FINAL = {1: 17, 2: 1, 3: 4}
_MAN_FINAL = 4
_CLOSING = {")": "(", "]": "[", "」": "「", "』": "『", "）": "（"}
_QUOTES = "\"'“”‘’"


def final_consonant(word: str) -> int | None:
    """Index (1..27) of the final consonant the word is read with, 0 when it ends in a vowel, None when unknown."""
    word = word.rstrip()
    while word and word[-1] in _QUOTES:
        word = word[:-1].rstrip()
    if word and word[-1] in _CLOSING:
        opening = word.rfind(_CLOSING[word[-1]])
        if opening > 0:
            return final_consonant(word[:opening])
    if not word:
        return None
    last = word[-1]
    if HANGUL_FIRST <= ord(last) <= HANGUL_LAST:
        return (ord(last) - HANGUL_FIRST) % 28
    if last.isascii() and last.isdigit():
        digits = word[len(word.rstrip("0123456789")):]
        zeros = len(digits) - len(digits.rstrip("0"))
        if zeros == 0:
            return _DIGIT_FINAL[last]
        if zeros == len(digits):  # "0", "00": read as 영
            return _DIGIT_FINAL["0"]
        return _TENS_FINAL.get(zeros, _MAN_FINAL)
    return None


def particle(word: str, after_consonant: str, after_vowel: str) -> str:
    """The particle alone: `particle("서울", "으로", "로")` is "로"; unknown endings give "으로(로)"-style forms."""
    final = final_consonant(word)
    if final is None:
        if after_consonant.startswith("으") and after_consonant[1:] == after_vowel:
            return f"(으){after_vowel}"
        return f"{after_consonant}({after_vowel})"
    if final == 0:
        return after_vowel
    if final == RIEUL and after_consonant.startswith("으"):
        return after_vowel
    return after_consonant


def josa(word: str, after_consonant: str, after_vowel: str) -> str:
    """The word with its particle attached: `josa("경상북도", "을", "를")` is "경상북도를"."""
    return f"{word}{particle(word, after_consonant, after_vowel)}"
