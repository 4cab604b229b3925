"""The ``rainmaker`` command line (SPEC §2).

Each sub-command is a small function taking the parsed arguments and returning an exit status;
heavy libraries are imported inside the command that needs them so that ``rainmaker --help`` and
``rainmaker validate`` start fast. Exit statuses: 0 success, 2 bad input or usage (``DataError``,
``UsageError``, argparse errors), 1 any other failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rainmaker import __version__
from rainmaker.errors import DataError, RainmakerError, UsageError

DEFAULT_DATA = Path("data/sample")

Command = Callable[[argparse.Namespace], int]


def _say(text: str) -> None:
    print(text, flush=True)


def _warn(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- commands


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a data set against the contract and list every problem."""
    from rainmaker.validation import validate_dataset

    report = validate_dataset(args.data)
    for warning in report.warnings:
        _warn(f"warning: {warning}")
    if not report.ok:
        raise DataError(report.problems)
    _say(report.summary())
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    """Regenerate the synthetic sample data set (seeded, bit for bit)."""
    from simulate.synthetic import SampleConfig, generate_sample

    config = SampleConfig() if args.seed is None else SampleConfig(seed=args.seed)
    out = generate_sample(args.out, config)
    _say(f"sample data set written to {out}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The daily job on the embedded sample data set."""
    from rainmaker.dataset import load_dataset

    dataset = load_dataset(args.data)
    for warning in dataset.warnings:
        _warn(f"warning: {warning}")
    flows = dataset.flows
    last = flows["date"].max()
    latest = flows[flows["date"] == last]
    _say(
        f"data set {dataset.root}: {len(dataset.product_ids)} products, "
        f"{flows['date'].min():%Y-%m-%d} to {last:%Y-%m-%d}, "
        f"total AUM on {last:%Y-%m-%d}: {latest['aum'].sum() / 1e8:,.1f} hundred million CNY"
    )
    return 0


# --------------------------------------------------------------------------- parser


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        metavar="DIR",
        help="data-set folder (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="rainmaker",
        description="Forecast and control daily flows of cash-management wealth products.",
    )
    parser.add_argument("--version", action="version", version=f"rainmaker {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an unexpected error"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("validate", help="check a data set against the contract")
    _add_data(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("demo", help="the whole daily job on the sample data set")
    _add_data(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sample", help="regenerate the synthetic sample data set")
    p.add_argument("--out", type=Path, default=DEFAULT_DATA, metavar="DIR")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the sample's)")
    p.set_defaults(func=cmd_sample)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rainmaker`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except DataError as error:
        _warn(f"rainmaker {args.command}: {error.describe()}")
        return error.exit_code
    except (UsageError, RainmakerError) as error:
        _warn(f"rainmaker {args.command}: {error}")
        return error.exit_code
    except KeyboardInterrupt:
        _warn(f"rainmaker {args.command}: interrupted")
        return 130
    except Exception as error:  # the last line of defence: a message, not a stack trace
        if args.debug:
            raise
        _warn(
            f"rainmaker {args.command}: unexpected error: {type(error).__name__}: {error}\n"
            "(run with --debug for the traceback)"
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
