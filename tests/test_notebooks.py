"""The stored notebooks, as GitHub and a reader see them: plots inline, no machine's paths.

(CI also executes them: ``python notebooks/run.py --small``.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
# A path from the file system root (/home/..., /tmp/..., C:\...) anywhere in an output.
ABSOLUTE = re.compile(r"""(?:^|[\s"'(=])(?:/(?:home|work|tmp|root|Users|usr|var|opt|mnt|private)/|[A-Z]:\\)""")


def outputs(notebook: Path) -> list[tuple[dict, dict]]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [(cell, out) for cell in cells if cell["cell_type"] == "code" for out in cell.get("outputs", [])]


def test_there_are_notebooks():
    assert {n.name for n in NOTEBOOKS} >= {"accuracy.ipynb", "speed.ipynb", "pipeline.ipynb"}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda n: n.name)
def test_every_plot_is_stored_inline(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    plotting = [c for c in cells if c["cell_type"] == "code" and "plt.subplots" in "".join(c["source"])]
    assert plotting, "no plot in this notebook"
    for cell in plotting:
        assert any("image/png" in out.get("data", {}) for out in cell.get("outputs", [])), "".join(cell["source"])[:80]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda n: n.name)
def test_outputs_name_no_absolute_path(notebook):
    for cell, out in outputs(notebook):
        texts = [out.get("text", "")] + [v for k, v in out.get("data", {}).items() if k.startswith("text/")]
        for text in texts:
            text = "".join(text) if isinstance(text, list) else text
            assert not ABSOLUTE.search(text), text[:200]
        assert out.get("output_type") != "error", out
