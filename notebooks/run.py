"""Execute the notebooks headless, as CI does.

    python notebooks/run.py            # use saved full results in benchmarks/results/
    python notebooks/run.py --small    # run the small benchmarks inside the notebooks (CI)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()
    if args.small:
        os.environ["DEDUP_NOTEBOOK_SMALL"] = "1"
    for name in ("accuracy.ipynb", "speed.ipynb", "pipeline.ipynb"):
        notebook = nbformat.read(HERE / name, as_version=4)
        NotebookClient(notebook, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
        if not args.small:
            nbformat.write(notebook, HERE / name)   # keep the outputs of the full run
        print(f"executed {name}", file=sys.stderr)


if __name__ == "__main__":
    main()
