"""Public data about Korea's regions, loaded into the raw schema as it came, quirks handled in code.

One module per source: `boundaries` (VWorld 시군구, dissolved to local governments, KOSTAT codes),
`population` (MOIS residents by age band and sex), `decline` (인구감소지역/관심지역), `places`
(tourist spots, festivals, heritage) and `empty_houses` (KOSIS 빈집). `load_all` writes them all in
one transaction and returns a summary.
"""

from core.korea.load import LoadSummary, load_all, read_all

__all__ = ["LoadSummary", "load_all", "read_all"]
