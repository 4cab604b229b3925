"""The committed sample data set: write it (:func:`generate_sample`, ``python -m simulate.sample``)
and recognise a folder holding one (:func:`foreign_files`).

On top of the generator (:mod:`simulate.synthetic`, which draws the tables) and the README's
text (:mod:`simulate.sample_readme`, which describes them): both import one way, into here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from simulate.sample_readme import README_TITLE, render_readme
from simulate.synthetic import TABLES, SampleConfig, _text_tables, _write_csv, simulate_sample

__all__ = ["foreign_files", "generate_sample", "main"]


def generate_sample(out_dir: str | Path, config: SampleConfig | None = None) -> Path:
    """Generate the sample data set into ``out_dir`` (created if needed).

    Writes ``products.csv``, ``flows.csv``, ``market.csv`` (SPEC §1), ``exposure_response.csv``
    (the true response curve of every product, ``product_id, a, e0``: the synthetic world's
    ground truth, read by the backtest to replay demand under other exposure),
    ``investment_mix.csv`` (the rule each product was invested by, ``product_id, bucket, share,
    max_daily_purchase_pct``: the backtest's starting portfolio and the ``none`` policy's rule)
    and ``README.md``; the same config gives the same bytes.

    Returns:
        The folder written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = simulate_sample(config or SampleConfig())
    for name, frame in _text_tables(data).items():
        _write_csv(frame, out / f"{name}.csv")
    sizes = {name: (out / f"{name}.csv").stat().st_size for name in TABLES}
    (out / "README.md").write_text(render_readme(data, sizes), encoding="utf-8", newline="\n")
    return out


def foreign_files(folder: Path) -> list[str]:
    """Entries of ``folder`` that :func:`generate_sample` would destroy, sorted.

    Empty when the folder may be regenerated in place: it is empty, or it is a sample data
    set (its ``README.md`` is the one this module writes) holding only the sample's files.
    Anything else (somebody's data set, a sample with a file added) is listed.
    """
    entries = sorted(path.name for path in folder.iterdir())
    readme = folder / "README.md"
    try:
        ours = readme.is_file() and readme.read_text(encoding="utf-8").startswith(README_TITLE)
    except (OSError, UnicodeDecodeError):
        ours = False
    written = {f"{name}.csv" for name in TABLES} | {"README.md"}
    return [name for name in entries if not ours or name not in written]


def main(argv: list[str] | None = None) -> int:
    """``python -m simulate.sample --out DIR [--seed N]``."""
    parser = argparse.ArgumentParser(
        description="Generate the synthetic rainmaker sample data set."
    )
    parser.add_argument(
        "--out", default="data/sample", help="folder to write (default data/sample)"
    )
    parser.add_argument("--seed", type=int, default=SampleConfig.seed, help="random seed")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    out = generate_sample(args.out, SampleConfig(seed=args.seed))
    print(f"sample written to {out} in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
