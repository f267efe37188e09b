"""The scan pipeline, top to bottom: load -> chrome -> sketch -> candidates -> align ->
classify -> paraphrase -> lineage -> report.  The CLI only wraps this module."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from .align import Aligner, Overlap
from .candidates import CandidateFinder
from .chrome import ChromeDetector
from .classify import Classifier
from .lineage import LineageBuilder
from .load import Corpus
from .paraphrase import ParaphraseFinder, blank_spans
from .records import Document, Pair, ProgressCallback, ScanReport
from .settings import Settings
from .sketch import Fingerprint, MinHasher, Shingler

NO_RELATION = "none"


class Scanner:
    """Finds and explains text reuse in a set of documents.

    >>> report = Scanner().scan(load_path("seeds"))       # doctest: +SKIP
    >>> [p.relation for p in report.pairs]                 # doctest: +SKIP
    """

    def __init__(self, settings: Settings | None = None, **overrides) -> None:
        settings = settings or Settings()
        self.settings = replace(settings, **overrides) if overrides else settings
        s = self.settings
        self.shingler = Shingler(s.shingle_size)
        self.minhasher = MinHasher(s.num_perm, s.seed, s.window_words)
        self.candidates = CandidateFinder(self.minhasher, window_threshold=s.window_threshold,
                                          document_threshold=s.document_threshold, engine=s.engine)
        self.aligner = Aligner(shingle_size=s.shingle_size, min_words=s.min_passage_words,
                               max_gap_words=s.max_gap_words)
        self.classifier = Classifier(duplicate_containment=s.duplicate_containment,
                                     excerpt_containment=s.excerpt_containment)
        self.paraphraser = ParaphraseFinder.from_settings(s)
        self.lineage = LineageBuilder()

    # -- the whole corpus -------------------------------------------------

    def scan(self, corpus: Corpus | Iterable[Document], progress: ProgressCallback | None = None) -> ScanReport:
        if not isinstance(corpus, Corpus):
            corpus = Corpus(documents=list(corpus))
        documents = sorted(corpus.documents, key=lambda d: d.id)
        chrome = ChromeDetector(min_docs=self.settings.chrome_min_docs).fit(documents)
        chrome_spans = [chrome.spans(d) for d in documents]
        fingerprints = []
        for i, (doc, spans) in enumerate(zip(documents, chrome_spans)):
            fingerprints.append(self.shingler.fingerprint(doc, spans))
            _tick(progress, "fingerprint", i + 1, len(documents))
        sketches = [self.minhasher.sketch(fp) for fp in fingerprints]
        candidates = self.candidates.pairs(sketches, progress)
        pairs = []
        for n, (i, j) in enumerate(candidates):
            pair = self._verbatim_pair(documents[i], documents[j], fingerprints[i], fingerprints[j])
            if pair is not None:
                pairs.append(pair)
            _tick(progress, "align", n + 1, len(candidates))
        if self.settings.paraphrase:
            pairs = self.paraphraser.find(documents, chrome_spans, verbatim=pairs, progress=progress)
        lineage = self.lineage.build(documents, pairs, [blank_spans(d.text, spans)
                                                        for d, spans in zip(documents, chrome_spans)])
        return ScanReport(
            documents=documents,
            skipped=sorted(corpus.skipped, key=lambda s: (s.path, s.line or 0)),
            pairs=sorted(pairs, key=lambda p: (p.a, p.b)),
            families=lineage.families,
            sources=lineage.sources,
            edges=lineage.edges,
            parameters=self.settings.to_json(),
            chrome={d.id: spans for d, spans in zip(documents, chrome_spans)},
        )

    # -- one pair in detail -----------------------------------------------

    def compare(self, a: Document, b: Document) -> Pair:
        """Everything that links two documents; relation ``"none"`` when nothing does."""
        return self.compare_report(a, b).pairs[0]

    def compare_report(self, a: Document, b: Document) -> ScanReport:
        """A scan of just ``a`` and ``b`` whose only pair is theirs (relation ``"none"`` if unrelated)."""
        report = self.scan([a, b])
        if not report.pairs:
            pair = Pair(a=report.documents[0].id, b=report.documents[1].id, relation=NO_RELATION)
            fa, fb = (self.shingler.fingerprint(d, report.chrome[d.id]) for d in report.documents)
            report.pairs = [_fill_overlap(pair, self.aligner.align(fa, fb, report.documents[0].text))]
        return report

    def _verbatim_pair(self, a: Document, b: Document, fa: Fingerprint, fb: Fingerprint) -> Pair | None:
        overlap = self.aligner.align(fa, fb, a.text)
        relation = self.classifier.relation(overlap)
        if relation is None:
            return None
        return _fill_overlap(Pair(a=a.id, b=b.id, relation=relation), overlap)


def _fill_overlap(pair: Pair, overlap: Overlap) -> Pair:
    pair.jaccard = overlap.jaccard
    pair.containment_a_in_b = overlap.containment_a_in_b
    pair.containment_b_in_a = overlap.containment_b_in_a
    pair.passages = overlap.passages
    return pair


def _tick(progress: ProgressCallback | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
