"""Write accuracy.ipynb, speed.ipynb and pipeline.ipynb (their cells live here, so they are reviewed as code).

    python notebooks/build.py          # rewrite the two notebooks
    python notebooks/run.py [--small]  # execute them headless (CI uses --small)
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = '''%matplotlib inline
import json, os, subprocess, sys, tempfile
from pathlib import Path
import matplotlib.pyplot as plt

# Paths are relative to the repository root, so stored outputs never name this machine's folders.
ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
RESULTS = ROOT / "benchmarks" / "results"
# DEDUP_NOTEBOOK_SMALL=1 (CI): run the small benchmark now instead of loading saved full results.
SMALL = os.environ.get("DEDUP_NOTEBOOK_SMALL") == "1"

def load_or_run(script, saved):
    """The saved results, or a small run's, and where they came from (a relative path)."""
    path = RESULTS / saved
    if not SMALL and path.exists():
        return json.loads(path.read_text()), path.relative_to(ROOT).as_posix()
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / saved
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--small", "--output", str(output)],
                       check=True, capture_output=True, text=True)
        return json.loads(output.read_text()), f"python benchmarks/{script} --small (run now)"

def show(fig, saved):
    """Draw the figure inline; a full run also refreshes the PNG the README shows."""
    fig.tight_layout()
    if not SMALL:
        fig.savefig(RESULTS / saved, dpi=110)
    plt.show()
'''

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
show(fig, "accuracy-relations.png")"""),
    new_markdown_cell("## Recall by kind of reuse and edit rate"),
    new_code_cell("""fig, ax = plt.subplots(figsize=(11, 3.8))
kinds = list(next(iter(results["recall_by_kind"].values())))
for method, found in results["recall_by_kind"].items():
    ax.plot(kinds, [found[k] for k in kinds], marker="o", label=method)
ax.set_ylabel("share of truth pairs found")
ax.set_ylim(-0.05, 1.05)
ax.tick_params(axis="x", rotation=45)
ax.legend(fontsize=8)
show(fig, "accuracy-kinds.png")"""),
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
show(fig, "speed.png")"""),
    new_code_cell('for r in rows:\n'
                  '    print(f"{r[\'n\']:>7} {r[\'engine\']:<26} {r[\'seconds\']:8.1f}s {r[\'docs_per_s\']:8.0f} docs/s '
                  '{r[\'peak_mb\']:7.0f} MB")'),
]

PIPELINE = [
    new_markdown_cell("# dedup in a pipeline\n\nThe library on a pandas DataFrame: the three seed articles plus "
                      "generated variants of seed 002 (an edited copy, an excerpt, a copy in other site chrome), "
                      "scanned in memory; pairs and documents come back as DataFrames; one article is kept per "
                      "cluster of near-copies."),
    new_code_cell("""%matplotlib inline
import random, sys
from pathlib import Path
import matplotlib.pyplot as plt
import pandas as pd
import dedup

ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()
sys.path.insert(0, str(ROOT / "benchmarks"))
from synth import edit_words, word_slice, wrap_chrome

seeds = {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))}
original = seeds["002"]
rng = random.Random(1)
frame = pd.DataFrame({
    "article": ["000", "001", "002", "002-edited", "002-excerpt", "002-rehosted"],
    "body": [seeds["000"], seeds["001"], original, edit_words(original, 0.1, rng),
             word_slice(original, 120, 250), wrap_chrome(original) + "\\nSource link\\n"],
    "published": pd.to_datetime(["2025-11-21", "2025-11-21", "2025-11-20", "2025-11-22", None, None]),
})
frame.assign(words=frame.body.str.split().str.len()).drop(columns="body")"""),
    new_code_cell("""report = dedup.scan(frame, columns={"id": "article", "text": "body", "date": "published"})
pairs, documents = report.to_pandas(keep="source")
pairs[["a", "b", "relation", "direction", "containment_a_in_b", "containment_b_in_a", "aligned_sentences"]]"""),
    new_code_cell('documents[["id", "date", "family_id", "cluster_id", "is_representative", "representative"]]'),
    new_markdown_cell("## How much of each document the other contains\n\nDuplicates sit top right, an excerpt "
                      "near one axis's top; a paraphrase shares little verbatim text but aligned sentences."),
    new_code_cell("""fig, ax = plt.subplots(figsize=(5.5, 4.5))
for relation, group in pairs.groupby("relation"):
    ax.scatter(group.containment_a_in_b, group.containment_b_in_a, s=60, label=relation)
    for row in group.itertuples():
        ax.annotate(f"{row.a} / {row.b}", (row.containment_a_in_b, row.containment_b_in_a), fontsize=7,
                    xytext=(4, 4), textcoords="offset points")
ax.set_xlabel("share of a inside b")
ax.set_ylabel("share of b inside a")
ax.set_xlim(-0.05, 1.2)
ax.set_ylim(-0.05, 1.2)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()"""),
    new_code_cell("""kept = frame[frame.article.isin(documents.loc[documents.is_representative, "id"])]
print(f"{len(frame)} articles, {len(kept)} kept:", ", ".join(kept.article))"""),
]


def main() -> None:
    for name, cells in (("accuracy.ipynb", ACCURACY), ("speed.ipynb", SPEED), ("pipeline.ipynb", PIPELINE)):
        notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                      "language": "python"}})
        nbformat.write(notebook, HERE / name)
        print(HERE / name)


if __name__ == "__main__":
    main()
