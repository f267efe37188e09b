"""Every tunable parameter, one section per stage, each with its limits and the reason for its default.

Each stage takes its own section (``Aligner(settings.align)``), so a stage's
parameters are declared once, here, next to why they are what they are.  The
CLI builds its options from these fields (``cli.option``); a test checks that
every CLI option matches its field.

The defaults come from measurement on the seeds and their generated variants
(README "Choosing thresholds", ``benchmarks/thresholds.py``).  With 5-word
shingles a copy with 10% of its words edited keeps only ~0.9**5 = 59% of its
shingles, a Jaccard of ~0.42, and 20% edits leave ~0.2: a 0.8 resemblance
threshold would miss both.  So the LSH thresholds are low (cheap recall), and
every candidate is verified by exact alignment (precision).
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any, ClassVar


def param(default: Any, help: str, *, low: float | None = None, high: float | None = None,
          open_low: bool = False, choices: tuple[str, ...] | None = None) -> Any:
    """A settings field with its limits and help text (the CLI and validation read both)."""
    return field(default=default, metadata={"help": help, "low": low, "high": high, "open_low": open_low,
                                            "choices": choices})


def limits_text(f) -> str:
    """The field's limits as a person reads them: "in (0, 1]", ">= 1", "one of a, b"."""
    m = f.metadata
    if m.get("choices"):
        return "one of " + ", ".join(m["choices"])
    low, high = m.get("low"), m.get("high")
    if low is not None and high is not None:
        return f"in {'(' if m['open_low'] else '['}{low:g}, {high:g}]"
    if low is not None:
        return f"{'>' if m['open_low'] else '>='} {low:g}"
    return ""


class Section:
    """Validation shared by every section: each field against the limits declared with it."""

    name: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            self._check(f, getattr(self, f.name))
        self.check()

    def _check(self, f, value) -> None:
        m = f.metadata
        where = f"{f.name.replace('_', '-')}"
        if m.get("choices") is not None:
            if value not in m["choices"]:
                raise ValueError(f"{where} must be {limits_text(f)}, got {value!r}")
            return
        if isinstance(f.default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{where} must be true or false, got {value!r}")
            return
        if isinstance(f.default, int) and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{where} must be a whole number, got {value!r}")
        if isinstance(f.default, float) and not isinstance(value, (int, float)):
            raise ValueError(f"{where} must be a number, got {value!r}")
        low, high = m.get("low"), m.get("high")
        if value != value or (low is not None and (value < low or (m.get("open_low") and value == low))) \
                or (high is not None and value > high):
            raise ValueError(f"{where} must be {limits_text(f)}, got {value}")

    def check(self) -> None:
        """Rules across fields of one section (overridden where there are any)."""


@dataclass(frozen=True)
class SketchSettings(Section):
    """What a stored sketch depends on (an index records these and refuses other values)."""

    name: ClassVar[str] = "sketch"
    shingle_size: int = param(5, "Words per shingle for verbatim matching (characters for Chinese, Japanese, "
                              "Korean and Thai text).", low=1, high=32)
    num_perm: int = param(128, "MinHash permutations per signature.", low=8, high=1024)
    seed: int = param(1, "MinHash permutation seed.", low=0)
    window_words: int = param(50, "Window size in words; windows overlap by half, so an excerpt this long inside "
                              "a much longer article is still found.", low=2, high=10_000)


@dataclass(frozen=True)
class CandidateSettings(Section):
    name: ClassVar[str] = "candidates"
    window_threshold: float = param(0.3, "LSH Jaccard threshold between windows. Low on purpose: 5-word "
                                    "shingles of a copy with 10% of words edited have a Jaccard of only ~0.4; "
                                    "every candidate is verified by alignment.", low=0.0, high=1.0, open_low=True)
    document_threshold: float = param(0.5, "LSH Jaccard threshold between whole documents.", low=0.0, high=1.0,
                                      open_low=True)
    lsh: str = param("numpy", "LSH implementation: numpy (vectorised banding) or datasketch (MinHashLSH, the "
                     "reference; same candidates, slower).", choices=("numpy", "datasketch"))
    max_bucket: int = param(200, "An LSH bucket with more documents than this (boilerplate, a story copied "
                            "hundreds of times) links its members as a chain, not all pairs.", low=2)


@dataclass(frozen=True)
class AlignSettings(Section):
    name: ClassVar[str] = "align"
    min_passage_words: int = param(10, "Shorter shared stretches are stock phrases, not reuse.", low=1)
    max_gap_words: int = param(15, "Runs this few words apart (edits) stay one passage.", low=0)
    max_shift_words: int = param(5, "... as long as the two sides' gaps differ by at most this much.", low=0)
    neighbour_ratio: float = param(1.0, "Finished passages in order on both sides merge when the gap is at most "
                                   "this share of the shorter one.", low=0.0)
    max_occurrences: int = param(16, "A shingle repeated more often in one document is not a seed.", low=1)


@dataclass(frozen=True)
class RelationSettings(Section):
    name: ClassVar[str] = "relation"
    duplicate_containment: float = param(0.8, "Both documents covered this much by shared passages: duplicate.",
                                         low=0.0, high=1.0, open_low=True)
    excerpt_containment: float = param(0.8, "One document covered this much: excerpt.", low=0.0, high=1.0,
                                       open_low=True)
    low_verbatim: float = param(0.5, "An overlap becomes a paraphrase only if its passages cover less than "
                                "this of either document ...", low=0.0, high=1.0)
    beyond_passages: float = param(0.2, "... and its sentences align this much beyond what the passages cover.",
                                   low=0.0, high=1.0)
    min_aligned_sentences: int = param(4, "Aligned sentences needed for a paraphrase (tuned: "
                                       "benchmarks/paraphrase_set.py).", low=1)
    min_aligned_share: float = param(0.2, "Share of the shorter document's sentences aligned.", low=0.0,
                                     high=1.0, open_low=True)


@dataclass(frozen=True)
class ChromeSettings(Section):
    name: ClassVar[str] = "chrome"
    chrome_min_docs: int = param(4, "A short line found in this many documents is site chrome, not evidence.",
                                 low=2)
    repeat_max_words: int = param(20, "Lines up to this many words can be chrome by repetition.", low=1)
    pattern_max_words: int = param(40, "Lines up to this many words can be chrome by pattern ('Follow us').",
                                   low=1)
    outlet_min_docs: int = param(2, "A line of any length repeated under this many different stories "
                                 "(other titles, under half their lines in common) of one outlet (url host or source) is that outlet's furniture (promo, "
                                 "related-stories block).", low=2)
    shared_min_docs: int = param(5, "A passage carried by at least this many documents ...", low=2)
    shared_min_groups: int = param(3, "... from at least this many copy groups is a widely shared passage "
                                   "(a quoted statement, a syndicated promo): reported once, not pair evidence.",
                                   low=2)
    copy_share: float = param(0.5, "Two documents sharing this much of either one verbatim are one copy group.",
                              low=0.0, high=1.0, open_low=True)


@dataclass(frozen=True)
class ParaphraseSettings(Section):
    name: ClassVar[str] = "paraphrase"
    paraphrase: bool = param(True, "Also find retellings in other words (TF-IDF sentence alignment).")
    neighbours: int = param(10, "TF-IDF nearest neighbours per document.", low=1)
    min_similarity: float = param(0.2, "Document cosine below which no alignment is tried.", low=0.0, high=1.0,
                                  open_low=True)
    top_terms: int = param(40, "Each document's most distinctive terms used to find neighbours.", low=1)
    max_df_docs: int = param(200, "Terms in more documents than this do not make neighbours.", low=1)
    prefilter: float = param(0.2, "Sentence cosine below which the sentence model is not asked.", low=0.0,
                             high=1.0)
    sentence_probability: float = param(0.4, "Sentence model (MSRP-trained) probability that makes two "
                                        "sentences paraphrases (the cut with the best F1 on MSRP's training "
                                        "split: benchmarks/msrp.py).", low=0.0, high=1.0, open_low=True)
    strong_probability: float = param(0.75, "Out-of-order sentence matches need this probability (or their "
                                      "own evidence).", low=0.0, high=1.0, open_low=True)
    anchored_threshold: float = param(0.15, "Evidence-bearing sentence match, when the documents share a "
                                      "distinctive quote or figures.", low=0.0, high=1.0, open_low=True)
    quote_bonus: float = param(0.3, "Score added to a sentence pair carrying the same quote.", low=0.0)
    number_bonus: float = param(0.15, "... per shared distinctive figure (two at most).", low=0.0)
    name_bonus: float = param(0.1, "... per shared rare name (two at most).", low=0.0)


@dataclass(frozen=True)
class LineageSettings(Section):
    name: ClassVar[str] = "lineage"
    date_weight: float = param(0.7, "Vote of publication dates on direction.", low=0.0, high=1.0)
    attribution_weight: float = param(0.4, "Vote of a credit to the other's outlet.", low=0.0, high=1.0)
    containment_weight: float = param(0.3, "Vote of containment asymmetry.", low=0.0, high=1.0)
    republished_weight: float = param(0.15, "Vote of a republication marker ('Source link').", low=0.0, high=1.0)
    min_confidence: float = param(0.15, "Weaker net votes leave the direction unknown.", low=0.0, high=1.0)
    crawl_weight: float = param(0.2, "Vote of crawl times (when a publication date is missing): a crawler "
                                "fetches pages late and in any order.", low=0.0, high=1.0)
    min_time_gap_hours: float = param(1.0, "Times closer than this are no evidence of who was first.", low=0.0)
    family_min_share: float = param(0.2, "An overlap joins a story family only when its passages cover this "
                                    "share of the smaller article.", low=0.0, high=1.0)


@dataclass(frozen=True)
class IndexSettings(Section):
    name: ClassVar[str] = "index"
    max_candidates: int = param(20, "Indexed documents verified per incoming document (most bucket hits "
                                "first).", low=1)
    shingle_sets_kept: int = param(100_000, "Indexed documents whose shingle hashes are kept in memory (~2 KB "
                                   "for a 500-word article), so a candidate sharing too few with the incoming "
                                   "document for a passage is ruled out without analysing it again; the "
                                   "least recently used are dropped. Verdicts are the same for any value; "
                                   "0 keeps none.", low=0)


@dataclass(frozen=True)
class ExecutionSettings(Section):
    """How the work is run, not what it finds: results are the same for any value."""

    name: ClassVar[str] = "execution"
    jobs: int = param(0, "Worker processes for analysing documents (chrome, shingles, MinHash), hashing their "
                      "TF-IDF vectors and reading their credits (lineage) on large inputs "
                      "(2,000 documents or more): 0 uses every core, 1 none.", low=0, high=256)


SECTIONS = (SketchSettings, CandidateSettings, AlignSettings, RelationSettings, ChromeSettings,
            ParaphraseSettings, LineageSettings, IndexSettings, ExecutionSettings)


@dataclass(frozen=True)
class Settings:
    """All sections.  ``Settings.of(window_threshold=0.25)`` sets fields by name, whatever their section."""

    sketch: SketchSettings = field(default_factory=SketchSettings)
    candidates: CandidateSettings = field(default_factory=CandidateSettings)
    align: AlignSettings = field(default_factory=AlignSettings)
    relation: RelationSettings = field(default_factory=RelationSettings)
    chrome: ChromeSettings = field(default_factory=ChromeSettings)
    paraphrase: ParaphraseSettings = field(default_factory=ParaphraseSettings)
    lineage: LineageSettings = field(default_factory=LineageSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)

    def __post_init__(self) -> None:
        if self.align.min_passage_words < self.sketch.shingle_size:
            raise ValueError("min-passage-words must be at least shingle-size")

    @classmethod
    def of(cls, **values: Any) -> "Settings":
        return cls().updated(**values)

    def updated(self, **values: Any) -> "Settings":
        """A copy with fields changed by name (``updated(shingle_size=4)``); unknown names are an error."""
        by_section: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            section = section_of(key)
            by_section.setdefault(section.name, {})[key] = value
        return replace(self, **{name: replace(getattr(self, name), **changes)
                                for name, changes in by_section.items()})

    def sketch_parameters(self) -> dict:
        """What a stored sketch depends on: sketches made otherwise do not compare."""
        from datasketch import __version__ as datasketch_version

        from .sketch import SCHEME, SHINGLE_HASH, TOKENIZER

        return {**asdict(self.sketch), "scheme": SCHEME, "shingle_hash": SHINGLE_HASH, "tokenizer": TOKENIZER,
                "datasketch_major": datasketch_version.split(".")[0]}

    def to_json(self) -> dict:
        return {name: asdict(getattr(self, name)) for name in (s.name for s in SECTIONS)}


def section_of(name: str) -> type[Section]:
    for section in SECTIONS:
        if any(f.name == name for f in fields(section)):
            return section
    raise ValueError(f"unknown setting {name!r}")


def field_of(name: str):
    return next(f for f in fields(section_of(name)) if f.name == name)


def default_of(name: str) -> Any:
    f = field_of(name)
    return f.default if f.default is not MISSING else f.default_factory()
