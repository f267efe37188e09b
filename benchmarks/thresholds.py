"""Why the thresholds are what they are: similarity of real articles under word edits.

    python benchmarks/thresholds.py

For each seed article and each edit rate (share of words replaced by other words of
the same article, 10 random draws each) prints the mean exact Jaccard of 5-word
shingle sets, the mean LSH collision probability of the whole documents at the
document threshold and of the best window pair at the window threshold, dedup's
containment (share of words inside shared passages), and the relation dedup reports.
Side by side: whether plain document-level MinHashLSH at datasketch's default
threshold (0.9) and at 0.5 would even propose the pair.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, print_table  # noqa: E402


def collision(j: float, b: int, r: int) -> float:
    return 1 - (1 - j ** r) ** b


def main() -> None:
    from dedup import Scanner
    from dedup.candidates import banding
    from dedup.records import Document
    from synth import edit_words

    from dedup.core import Context

    scanner = Scanner(paraphrase=False)
    s = scanner.settings
    context = Context(s)
    num_perm = s.sketch.num_perm
    doc_band = banding(s.candidates.document_threshold, num_perm)
    win_band = banding(s.candidates.window_threshold, num_perm)
    default_band, half_band = banding(0.9, num_perm), banding(0.5, num_perm)
    rows = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for rate in (0.0, 0.05, 0.10, 0.20, 0.30, 0.40):
            stats = []
            for draw in range(10):
                edited = edit_words(text, rate, random.Random(draw))
                a, b = Document("a", text), Document("b", edited)
                fa, fb = (context.shingler.fingerprint(d) for d in (a, b))
                sa, sb = set(fa.shingles.tolist()), set(fb.shingles.tolist())
                jac = len(sa & sb) / len(sa | sb)
                ka, kb = context.minhasher.sketch(fa), context.minhasher.sketch(fb)
                window = max(float(np.mean(wa == wb)) for wa in ka.windows for wb in kb.windows)
                pair = scanner.compare(a, b)
                stats.append((jac, window, min(pair.containment_a_in_b, pair.containment_b_in_a), pair.relation))
            jac, window, cont = (float(np.mean([x[i] for x in stats])) for i in range(3))
            rows.append({
                "doc": path.name[:3], "rate": f"{rate:.0%}", "jaccard": jac, "window": window, "containment": cont,
                "relation": Counter(x[3] for x in stats).most_common(1)[0][0],
                "p_doc": collision(jac, *doc_band), "p_win": collision(window, *win_band),
                "p_default": collision(jac, *default_band), "p_half": collision(jac, *half_band),
            })
    print(f"LSH bands x rows: documents {doc_band} at {s.document_threshold}, windows {win_band} at "
          f"{s.window_threshold}; datasketch default 0.9 -> {default_band}, 0.5 -> {half_band}\n")
    print_table(rows, [("seed", "{doc}"), ("edits", "{rate}"), ("jaccard", "{jaccard:.3f}"),
                       ("best window est.", "{window:.3f}"), ("P(doc collide)", "{p_doc:.3f}"),
                       ("P(window collide)", "{p_win:.3f}"), ("dedup containment", "{containment:.3f}"),
                       ("dedup relation", "{relation}"), ("baseline 0.9 P", "{p_default:.3f}"),
                       ("baseline 0.5 P", "{p_half:.3f}")])


if __name__ == "__main__":
    main()
