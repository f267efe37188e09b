"""What the sentence model costs a scan: preparing sentences (``SentenceRows.of``) per 1,000
sentences and scoring sentence pairs (``pair_features`` + the model's probability) per 1,000 pairs,
wall and CPU milliseconds, best of ``--repeat``.

    python benchmarks/sentence_cost.py --baseline DIR   # DIR: another dedup (git archive REV | tar -x -C DIR)

Pairs in the scan's shape: each of 1,000 MSRP sentences against 8 sentences of the other side
(8,000 pairs scored in one call).  With ``--baseline``, the same measure runs on the dedup found
in DIR, in a process of its own, alternating with this one, and both are printed side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_MSRP, msrp_pairs  # noqa: E402

PARTNERS = 8


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(folder: Path, sentences: int = 1000, repeat: int = 5) -> dict[str, list[float]]:
    """Best (wall ms, CPU ms) per 1,000 of: prepared sentences, scored pairs."""
    from dedup.sentences import SentenceFeatures, SentenceModel, pair_features

    rows = msrp_pairs(folder)[:sentences]
    a, b = [r[1] for r in rows], [r[2] for r in rows]
    model = SentenceModel.load()
    featuriser = SentenceFeatures(model.weights)
    featuriser.rows(a + b)   # the per-word cache warm, as in a scan of many documents
    first = np.repeat(np.arange(len(a)), PARTNERS)
    second = (first + np.tile(np.arange(PARTNERS), len(a))) % len(b)
    best = {"prepare per 1k sentences": [9e9, 9e9], "score per 1k pairs": [9e9, 9e9]}
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), cpu_seconds()
        rows_a, rows_b = featuriser.rows(a), featuriser.rows(b)
        wall_1, cpu_1 = time.perf_counter(), cpu_seconds()
        model.probability(pair_features(rows_a, first, rows_b, second))
        wall_2, cpu_2 = time.perf_counter(), cpu_seconds()
        for name, (w, c), per in (("prepare per 1k sentences", (wall_1 - wall, cpu_1 - cpu), 2 * len(a) / 1000),
                                  ("score per 1k pairs", (wall_2 - wall_1, cpu_2 - cpu_1), len(first) / 1000)):
            best[name] = [min(best[name][0], 1000 * w / per), min(best[name][1], 1000 * c / per)]
    return best


def in_process_of(folder: Path | None, msrp: Path, repeat: int) -> dict[str, list[float]]:
    """``measure`` in a fresh process, on the dedup in ``folder`` (None: this checkout's)."""
    env = dict(os.environ)
    if folder is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(folder.resolve()), env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, __file__, "--msrp", str(msrp), "--repeat", str(repeat), "--json"],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--msrp", type=Path, default=DEFAULT_MSRP)
    parser.add_argument("--baseline", type=Path, metavar="DIR", help="another dedup checkout to measure beside")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of baseline and this checkout")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)   # one process's measure, for --baseline
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.msrp, repeat=args.repeat)))
        return
    sides = {"baseline": args.baseline, "dedup": None} if args.baseline else {"dedup": None}
    found: dict[str, dict[str, list[float]]] = {}
    for _ in range(args.rounds):
        for side, folder in sides.items():
            for name, (wall, cpu) in in_process_of(folder, args.msrp, args.repeat).items():
                kept = found.setdefault(side, {}).setdefault(name, [9e9, 9e9])
                kept[:] = [min(kept[0], wall), min(kept[1], cpu)]
    print(f"{'measure':<26}" + "".join(f"{side:>26}" for side in sides))
    for name in found["dedup"]:
        print(f"{name:<26}" + "".join(f"{found[s][name][0]:>9.1f} ms ({found[s][name][1]:.1f} CPU)" for s in sides))


if __name__ == "__main__":
    main()
