"""The Korean font (NanumGothic) shipped by the koreanize-matplotlib package: no system font needed."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache
def nanum_gothic_path() -> Path:
    import koreanize_matplotlib  # the package registers its fonts on import

    fonts = sorted(Path(koreanize_matplotlib.__file__).parent.rglob("NanumGothic*.ttf"))
    regular = [f for f in fonts if f.stem == "NanumGothic"] or fonts
    if not regular:
        raise RuntimeError("koreanize-matplotlib does not ship NanumGothic: reinstall it (make install)")
    return regular[0]


def use_korean_font() -> str:
    """Make matplotlib draw Hangul with NanumGothic; returns the font family name."""
    import matplotlib as mpl
    from matplotlib import font_manager

    path = nanum_gothic_path()
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    mpl.rcParams["font.family"] = family
    mpl.rcParams["axes.unicode_minus"] = False
    return family
