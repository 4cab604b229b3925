"""Strip outputs, execution counts and run metadata from the notebooks, so that git diffs show
only what a person changed.

Usage (from the repository root)::

    .venv/bin/python scripts/strip_notebooks.py            # strip notebooks/*.ipynb in place
    .venv/bin/python scripts/strip_notebooks.py --check    # exit 1 if any needs stripping
    .venv/bin/python scripts/strip_notebooks.py FILE ...   # only these notebooks

Run it before committing a notebook you ran in Jupyter. ``tests/app/test_notebooks.py`` fails on a
committed notebook that still has outputs or execution counts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# Notebook metadata worth keeping: which kernel and language; the rest (widths, toc state,
# the Python version of whoever ran it last) changes with every save.
KEPT_METADATA = ("kernelspec", "language_info")
# Cell metadata written by Jupyter and nbclient about a run, not about the cell.
RUN_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def stripped(text: str) -> str:
    """The notebook ``text`` (nbformat 4 JSON) without outputs, counts or run metadata."""
    notebook = nbformat.reads(text, as_version=4)
    notebook.metadata = {
        key: notebook.metadata[key] for key in KEPT_METADATA if key in notebook.metadata
    }
    if "language_info" in notebook.metadata:
        # the language name identifies it; versions and lexers differ between machines
        notebook.metadata["language_info"] = {"name": notebook.metadata["language_info"]["name"]}
    for cell in notebook.cells:
        for key in RUN_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Strip the notebooks named (default: every ``notebooks/*.ipynb``); 1 when ``--check``
    finds one to strip, else 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="notebooks (default: notebooks/*)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if needed")
    args = parser.parse_args(argv)
    files = args.files or sorted(NOTEBOOKS.glob("*.ipynb"))
    dirty = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        clean = stripped(text)
        if clean == text:
            continue
        dirty.append(path)
        if not args.check:
            path.write_text(clean, encoding="utf-8")
    verb = "need stripping" if args.check else "stripped"
    for path in dirty:
        print(f"{verb}: {path}")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    sys.exit(main())
