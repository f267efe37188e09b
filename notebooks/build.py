"""Write accuracy.ipynb and speed.ipynb (their cells live here, so they are reviewed as code).

    python notebooks/build.py          # rewrite the two notebooks
    python notebooks/run.py [--small]  # execute them headless (CI uses --small)
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """import json, os, subprocess, sys, tempfile
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
RESULTS = ROOT / "benchmarks" / "results"
# DEDUP_NOTEBOOK_SMALL=1 (CI): run the small benchmark now instead of loading saved full results.
SMALL = os.environ.get("DEDUP_NOTEBOOK_SMALL") == "1"

def load_or_run(script, saved):
    path = RESULTS / saved
    if SMALL or not path.exists():
        path = Path(tempfile.mkdtemp()) / saved
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--small", "--output", str(path)],
                       check=True, capture_output=True, text=True)
    return json.loads(path.read_text()), path
"""

ACCURACY = [
    new_markdown_cell("# dedup accuracy\n\nResults of `python benchmarks/accuracy.py --output "
                      "benchmarks/results/accuracy.json` (or its `--small` version when that file is missing or "
                      "`DEDUP_NOTEBOOK_SMALL=1`). Generated syndication set from real articles, peers on the same "
                      "set, BBC duplicates against exact Jaccard, MSRP cross-validation."),
    new_code_cell(SETUP),
    new_code_cell('results, source = load_or_run("accuracy.py", "accuracy.json")\nprint("from", source)\n'
                  'results["settings"]'),
    new_markdown_cell("## Precision and recall per relation"),
    new_code_cell("""fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
methods = list(results["relations"])
relations = ["duplicate", "excerpt", "overlap", "paraphrase"]
width = 0.8 / len(methods)
for ax, measure in zip(axes, ("precision", "recall")):
    for k, method in enumerate(methods):
        rows = {r["relation"]: r for r in results["relations"][method]}
        ax.bar([i + k * width for i in range(len(relations))], [rows[r][measure] for r in relations],
               width, label=method)
    ax.set_xticks([i + width * (len(methods) - 1) / 2 for i in range(len(relations))], relations)
    ax.set_title(measure)
    ax.set_ylim(0, 1.05)
axes[0].legend(fontsize=8, loc="lower left")
fig.tight_layout()
fig.savefig(RESULTS / "accuracy-relations.png", dpi=110) if not SMALL else None"""),
    new_markdown_cell("## Recall by kind of reuse and edit rate"),
    new_code_cell("""fig, ax = plt.subplots(figsize=(11, 3.8))
kinds = list(next(iter(results["recall_by_kind"].values())))
for method, found in results["recall_by_kind"].items():
    ax.plot(kinds, [found[k] for k in kinds], marker="o", label=method)
ax.set_ylabel("share of truth pairs found")
ax.set_ylim(-0.05, 1.05)
ax.tick_params(axis="x", rotation=45)
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(RESULTS / "accuracy-kinds.png", dpi=110) if not SMALL else None"""),
    new_markdown_cell("## Direction, passages, BBC, MSRP"),
    new_code_cell('print(json.dumps({k: results[k] for k in ("direction", "passages")}, indent=1))\n'
                  'print(json.dumps(results.get("bbc", {}).get("rows"), indent=1))\n'
                  'for row in results["msrp"]:\n'
                  '    print(f"{row[\'method\']:<32} F1 {row[\'f1\']:.3f}  accuracy {row[\'accuracy\']:.3f}")'),
]

SPEED = [
    new_markdown_cell("# dedup speed\n\nResults of `python benchmarks/speed.py --output "
                      "benchmarks/results/speed.json` (or its `--small` version). Time and peak memory against "
                      "corpus size, log-log: a slope of 1 is linear."),
    new_code_cell(SETUP),
    new_code_cell('rows, source = load_or_run("speed.py", "speed.json")\nprint("from", source)\n'
                  'sorted({r["n"] for r in rows})'),
    new_code_cell("""fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for engine in dict.fromkeys(r["engine"] for r in rows):
    mine = sorted((r for r in rows if r["engine"] == engine), key=lambda r: r["n"])
    axes[0].plot([r["n"] for r in mine], [r["seconds"] for r in mine], marker="o", label=engine)
    axes[1].plot([r["n"] for r in mine], [r["peak_mb"] for r in mine], marker="o", label=engine)
for ax, label in zip(axes, ("wall time (s)", "peak RSS (MB)")):
    ax.set_xscale("log"); ax.set_yscale("log"); ax.set_xlabel("articles"); ax.set_ylabel(label)
    ax.grid(True, which="both", alpha=0.3)
axes[0].legend(fontsize=8)
fig.tight_layout()
fig.savefig(RESULTS / "speed.png", dpi=110) if not SMALL else None"""),
    new_code_cell('for r in rows:\n'
                  '    print(f"{r[\'n\']:>7} {r[\'engine\']:<26} {r[\'seconds\']:8.1f}s {r[\'docs_per_s\']:8.0f} docs/s '
                  '{r[\'peak_mb\']:7.0f} MB")'),
]


def main() -> None:
    for name, cells in (("accuracy.ipynb", ACCURACY), ("speed.ipynb", SPEED)):
        notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                      "language": "python"}})
        nbformat.write(notebook, HERE / name)
        print(HERE / name)


if __name__ == "__main__":
    main()
