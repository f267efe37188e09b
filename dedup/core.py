"""The analysis core: the few pure functions every front end calls.

``dedup scan`` (``pipeline.Scanner``), ``dedup compare``, the persistent index behind
``dedup filter``, and any cluster engine all run documents through these, so each
rule lives in one place:

- ``analyze(document, context) -> DocumentAnalysis``: chrome spans, tokens kept,
  shingles (the ``Fingerprint``), document and window MinHash sketches; sentences
  and the chrome-blanked text on demand.
- ``bucket_keys`` (in ``candidates``): the one definition of an LSH bucket.
- ``verify(a, b, context) -> PairEvidence``: what two analysed documents share
  verbatim (the align stage), and, when asked, which sentences say the same thing
  (the paraphrase stage).
- ``classify.decide`` / ``classify.make_pair``: the only place that knows the
  duplicate / excerpt / overlap / paraphrase rules, building the final frozen ``Pair``.

Everything here is a function of its inputs and the ``Context`` (settings plus
what was learned from the corpus: repeated chrome lines, the text
model), so the same calls run in worker processes or on a cluster's executors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Iterable, Sequence

from .align import Aligner, Overlap
from .chrome import ChromeDetector
from .records import Document
from .settings import Settings
from .sketch import Fingerprint, MinHasher, Shingler, Sketch
from .text import sentences

if TYPE_CHECKING:   # the paraphrase stage loads scikit-learn; only scans that use it pay for that
    from .paraphrase import ParaphraseFinder, SentenceEvidence, TextModel

MIN_SENTENCE_WORDS = 5   # shorter "sentences" (datelines, captions, headings) are not aligned


def blank_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with each span replaced by newlines of the same length (offsets stay valid)."""
    if not spans:
        return text
    parts, at = [], 0
    for start, end in sorted(spans):
        start = max(start, at)   # spans that overlap blank their union
        if end > start:
            parts += [text[at:start], "\n" * (end - start)]
            at = end
    parts.append(text[at:])
    return "".join(parts)


@dataclass(frozen=True)
class DocumentAnalysis:
    """Everything the later stages need from one document, computed once."""

    document: Document
    chrome: tuple[tuple[int, int], ...]   # character spans of site furniture
    fingerprint: Fingerprint              # kept tokens and their shingles
    sketch: Sketch                        # document and window MinHash signatures

    @property
    def id(self) -> str:
        return self.document.id

    def without_windows(self) -> "DocumentAnalysis":
        """This analysis with its sketch's window signatures dropped (``Sketch.without_windows``):
        what a scan keeps once its LSH candidates are made; no later stage reads them."""
        return replace(self, sketch=self.sketch.without_windows())

    @property
    def evidence_text(self) -> str:
        """The text with chrome blanked out (same length, so offsets still slice the original).
        Made on each call (microseconds), not kept: a kept copy would hold every text twice."""
        return blank_spans(self.document.text, self.chrome)

    @cached_property
    def sentences(self) -> tuple[tuple[int, int], ...]:
        """Spans of the sentences worth aligning (at least ``MIN_SENTENCE_WORDS`` words, chrome left out)."""
        text = self.evidence_text
        return tuple((s, e) for s, e in sentences(text) if len(text[s:e].split()) >= MIN_SENTENCE_WORDS)


@dataclass
class Context:
    """Settings plus what was learned from the corpus, shared by every document and pair.

    ``fit(documents)`` learns the corpus-level knowledge: which short lines repeat across
    documents (chrome).  The paraphrase stage adds its text model (document vectors) when it runs
    (``ParaphraseFinder.prepare``).  A context built for one corpus answers the same for a pair
    whichever front end asks (scan, compare with ``corpus=``, a worker process)."""

    settings: Settings = field(default_factory=Settings)
    chrome: ChromeDetector | None = None
    text_model: "TextModel | None" = None
    rare_names: frozenset[str] | None = None   # optional name filter; None: names judged within each pair
    paraphraser: "ParaphraseFinder | None" = None   # the paraphrase stage that prepared this context

    def __post_init__(self) -> None:
        s = self.settings
        if self.chrome is None:
            self.chrome = ChromeDetector(s.chrome)
        self.shingler = Shingler(s.sketch.shingle_size)
        self.minhasher = MinHasher.from_settings(s.sketch)
        self.aligner = Aligner(s.align, shingle_size=s.sketch.shingle_size)

    @classmethod
    def fit(cls, documents: Iterable[Document], settings: Settings | None = None) -> "Context":
        settings = settings or Settings()
        return cls(settings, ChromeDetector(settings.chrome).fit(documents))


def analyze(document: Document, context: Context) -> DocumentAnalysis:
    """Chrome spans -> fingerprint -> sketches: what one document brings to every comparison."""
    return analyze_many([document], context)[0]


ANALYZE_BATCH = 256   # documents hashed together: amortises numpy's per-call cost, bounds the batch's memory


def analyze_many(documents: Sequence[Document], context: Context) -> list[DocumentAnalysis]:
    """``analyze`` of each document (the same results), tokenised, hashed and sketched in batches."""
    out: list[DocumentAnalysis] = []
    for at in range(0, len(documents), ANALYZE_BATCH):
        batch = documents[at:at + ANALYZE_BATCH]
        chromes = [tuple(context.chrome.spans(doc)) for doc in batch]
        fingerprints = context.shingler.fingerprints(batch, chromes)
        sketches = context.minhasher.sketches(fingerprints)
        out.extend(map(DocumentAnalysis, batch, chromes, fingerprints, sketches))
    return out


@dataclass(frozen=True)
class PairEvidence:
    """What each stage found for one pair; ``classify.decide`` turns it into a relation."""

    a: str
    b: str
    overlap: Overlap                              # verbatim passages and containment
    sentences: "SentenceEvidence | None" = None   # sentence alignment, when the paraphrase stage ran


def verify_verbatim(a: DocumentAnalysis, b: DocumentAnalysis, context: Context) -> Overlap:
    """The passages ``a`` and ``b`` share verbatim (up to small edits), with offsets into both texts."""
    return context.aligner.align(a.fingerprint, b.fingerprint, a.document.text)


def verify(a: DocumentAnalysis, b: DocumentAnalysis, context: Context, *, sentences: bool = True,
           similarity: float | None = None, overlap: Overlap | None = None) -> PairEvidence:
    """Verbatim overlap (unless already known), then, with ``sentences`` and a context prepared by
    the paraphrase stage, sentence alignment."""
    if overlap is None:
        overlap = verify_verbatim(a, b, context)
    found = None
    if sentences and context.paraphraser is not None:
        from .paraphrase import align_pair
        found = align_pair(a, b, context, similarity)
    return PairEvidence(a.id, b.id, overlap, found)
