"""Tests of rainmaker.cli: messages, warnings, ``sample``, and a battery of hostile input.

The battery feeds every command bad arguments and the validator bad values and ids: every
case must exit 0 or 2 with a message that names what is wrong, and none may end in
"unexpected error" (exit 1) or a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import string
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from rainmaker import cli
from rainmaker.app import daily, pipeline
from simulate.sample_readme import README_TITLE
from tests.conftest import copy_closing_early, write_dataset
from tests.daily_fakes import fake_make_plan, fake_run_forecast


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("data"), n_products=2, n_days=50)


@pytest.fixture
def workdir(tmp_path, monkeypatch, data) -> Path:
    """A working directory of the test's own (no ./rainmaker.toml is read by accident)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-folder").mkdir()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    (tmp_path / "bad.toml").write_text("horizon = = 3\n")
    (tmp_path / "unknown.toml").write_text("horizn = 3\n")
    (tmp_path / "unwritable.toml").write_text(
        f'data = "{data}"\noutput_root = "{UNWRITABLE}/runs"\n'
    )
    return tmp_path


def _main(argv: list[str]) -> int:
    """``cli.main``, with argparse's own usage errors (SystemExit) as their exit status."""
    try:
        return cli.main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)


# ---------------------------------------------------------------------- messages


def test_python_warnings_are_one_line_without_source(monkeypatch, capsys):
    def noisy(args):
        warnings.warn("chinesecalendar covers 2004-2026 only", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "cmd_validate", noisy)
    assert cli.main(["validate"]) == 0
    err = capsys.readouterr().err
    # one log line: local time with its zone, the level, the command, the message
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d WARNING rainmaker validate: "
        r"chinesecalendar covers 2004-2026 only \(UserWarning\)\n",
        err,
    ), err


@pytest.mark.parametrize("debug", [False, True])
def test_unexpected_errors_and_tracebacks_mask_passwords(monkeypatch, capsys, debug):
    def broken(args):
        raise RuntimeError("cannot reach postgresql://rain:s3cr3t@db:5432/runs")

    monkeypatch.setattr(cli, "cmd_validate", broken)
    assert cli.main([*(["--debug"] if debug else []), "validate"]) == 1
    err = capsys.readouterr().err
    assert "postgresql://rain:***@db:5432/runs" in err and "s3cr3t" not in err
    assert ("Traceback (most recent call last)" in err) == debug


# ---------------------------------------------------------------------- sample


def _fake_sample(folder, config=None, *, fail: bool = False) -> Path:
    """A stand-in for generate_sample: what it writes, in a few milliseconds."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "products.csv").write_text("new products\n")
    if fail:  # killed half-way: products written, flows not yet
        raise KeyboardInterrupt
    (folder / "flows.csv").write_text("new flows\n")
    (folder / "README.md").write_text(f"{README_TITLE}\n\nnew\n")
    return folder


@pytest.fixture
def fake_sample(monkeypatch):
    import simulate.sample

    monkeypatch.setattr(simulate.sample, "generate_sample", _fake_sample)


def test_sample_refuses_a_folder_it_did_not_write_unless_forced(workdir, fake_sample, capsys):
    mine = workdir / "mine"
    mine.mkdir()
    (mine / "flows.csv").write_text("my real flows\n")
    assert cli.main(["sample", "--out", str(mine)]) == 2
    err = capsys.readouterr().err
    assert "holds files rainmaker sample did not write (flows.csv)" in err and "--force" in err
    assert (mine / "flows.csv").read_text() == "my real flows\n"
    assert cli.main(["sample", "--out", str(mine), "--force"]) == 0
    assert (mine / "flows.csv").read_text() == "new flows\n"
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(".")) == []


def test_sample_regenerates_its_own_folder_and_a_new_or_empty_one(workdir, fake_sample):
    out = workdir / "sample"
    assert cli.main(["sample", "--out", str(out)]) == 0  # new
    (out / "flows.csv").write_text("old flows\n")
    assert cli.main(["sample", "--out", str(out)]) == 0  # its own: no --force needed
    assert (out / "flows.csv").read_text() == "new flows\n"
    (out / "holdings.csv").write_text("added by hand\n")  # no longer only the sample's files
    assert cli.main(["sample", "--out", str(out)]) == 2
    assert cli.main(["sample", "--out", str(workdir / "a-folder")]) == 0  # empty


def test_a_sample_killed_while_writing_leaves_the_old_data_set(workdir, monkeypatch, capsys):
    import simulate.sample

    out = _fake_sample(workdir / "sample")
    before = {p.name: p.read_text() for p in out.iterdir()}
    monkeypatch.setattr(
        simulate.sample, "generate_sample", functools.partial(_fake_sample, fail=True)
    )
    assert cli.main(["sample", "--out", str(out)]) == 130
    assert {p.name: p.read_text() for p in out.iterdir()} == before
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(".")) == []


# ---------------------------------------------------------------------- the battery

EMPTY_PRODUCTS = (
    "--products is empty; give product ids separated by commas, or leave the option out for "
    "every product"
)
# A folder nothing can be created in, even by root (tests run as root in CI, so a chmod would
# not do): the commands did their work and then failed to write it (exit 1).
UNWRITABLE = "/proc"
CANNOT_WRITE = "cannot write in /proc"
HUGE = "99999999999999999999"
BAD_DAYS = ["01/06/2021", "2021", "2021/04/01", "15/06/2021", "2021-02-30", "yesterday", ""]

# (argv, text the message must contain); every case is refused before any data is read
BAD_ARGUMENTS = [
    (["validate", "--data", "nowhere"], "does not exist"),
    (["validate", "--data", "a-file"], "is not a folder"),
    *((["forecast", "--out", "f.csv", "--as-of", day], "--as-of") for day in BAD_DAYS),
    (["forecast", "--out", "f.csv", "--horizon", "0"], "--horizon"),
    (["forecast", "--out", "f.csv", "--horizon", "366"], "--horizon"),
    (["forecast", "--out", "f.csv", "--horizon", "x"], "--horizon"),
    (["forecast", "--out", "a-folder"], "is a folder"),
    (["forecast", "--out", "nowhere/f.csv"], "does not exist"),
    (["forecast", "--out", "a-file/f.csv"], "is a file"),
    (["forecast", "--out", "f.csv", "--model", "prophet"], "unknown forecast model"),
    *((["evaluate-forecast", "--start", day, "--tracking-uri", ""], "--start") for day in BAD_DAYS),
    (["evaluate-forecast", "--start", "2021-03-20", "--step", "0"], "--step"),
    (["evaluate-forecast", "--start", "2021-03-20", "--step", "-7"], "--step"),
    (["evaluate-forecast", "--start", "2021-03-20", "--refit-every", "0"], "--refit-every"),
    (["evaluate-forecast", "--start", "2021-03-20", "--horizon", "400"], "--horizon"),
    (["evaluate-forecast", "--start", "2021-03-20", "--end", "2021-03-01"], "--end"),
    (["evaluate-forecast", "--start", "2021-03-20", "--out", "a-folder"], "is a folder"),
    (["evaluate-forecast", "--start", "2021-03-20", "--tracking-uri", "x.db"], "--tracking-uri"),
    (["evaluate-forecast", "--start", "2021-03-20", "--models", "a,,b"], "unknown forecast"),
    *((["plan", "--as-of", day, "--no-tracking"], "--as-of") for day in BAD_DAYS),
    (["plan", "--out", "a-file", "--no-tracking"], "is a file"),
    (["plan", "--out", "foreign", "--no-tracking"], "does not hold a rainmaker plan"),
    (["plan", "--horizon", "0", "--no-tracking"], "--horizon must be from 1 to 60"),
    (["plan", "--horizon", "61", "--no-tracking"], "--horizon must be from 1 to 60"),
    (["plan", "--lang", "fr"], "--lang"),
    (["run", "--horizon", "61", "--no-tracking"], "--horizon must be from 1 to 60"),
    (["plan", "--config", "a-folder"], "is a folder"),
    (["plan", "--config", "nowhere.toml"], "does not exist"),
    *((["run", "--as-of", day], "--as-of") for day in BAD_DAYS),
    (["run", "--config", "bad.toml"], "not valid TOML"),
    (["run", "--config", "unknown.toml"], "horizn"),
    (["demo", "--config", "a-folder"], "is a folder"),
    (["history", "--limit", "0"], "--limit"),
    (["history", "--limit", "-3"], "--limit"),
    # a count or a number of days beyond a million: an overflow after the data was read (exit 1)
    (["history", "--limit", HUGE], "--limit"),
    (["backtest", "--warmup", HUGE, "--no-tracking"], "--warmup"),
    (["evaluate-forecast", "--start", "2021-03-20", "--step", HUGE, "--no-tracking"], "--step"),
    (
        ["scenario", "--out", "s", "--kind", "run", "--start", "2021-03-20", "--length", HUGE],
        "--length",
    ),
    *((["backtest", "--start", day, "--no-tracking"], "--start") for day in BAD_DAYS),
    (["backtest", "--early-sale-cost-bp", "nan", "--no-tracking"], "--early-sale-cost-bp"),
    (["backtest", "--early-sale-cost-bp", "-5", "--no-tracking"], "--early-sale-cost-bp"),
    (["backtest", "--early-sale-cost-bp", "1e400", "--no-tracking"], "--early-sale-cost-bp"),
    (["backtest", "--returning-share", "-0.1", "--no-tracking"], "--returning-share"),
    (["backtest", "--horizon", "0", "--no-tracking"], "--horizon"),
    (["backtest", "--refit-every", "0", "--no-tracking"], "--refit-every"),
    (["backtest", "--policy", "magic", "--no-tracking"], "unknown policy"),
    (["backtest", "--out", "a-file", "--no-tracking"], "is a file"),
    (["backtest", "--tracking-uri", "mlflow.db"], "--tracking-uri"),
    (["backtest", "--start", "2021-04-10", "--end", "2021-04-01", "--no-tracking"], "is after"),
    (["sample", "--out", "a-file"], "is a file"),
    (["sample", "--out", "foreign"], "did not write"),
    (["sample", "--seed", "-1"], "--seed"),
    *(
        (argv, CANNOT_WRITE)
        for argv in (
            ["forecast", "--out", f"{UNWRITABLE}/f.csv"],
            ["evaluate-forecast", "--start", "2021-03-20", "--out", f"{UNWRITABLE}/m.csv"]
            + ["--no-tracking"],
            ["plan", "--out", f"{UNWRITABLE}/plan", "--no-tracking"],
            ["run", "--config", "unwritable.toml", "--no-tracking"],
            ["backtest", "--out", f"{UNWRITABLE}/backtest", "--no-tracking"],
            ["stress", "--out", f"{UNWRITABLE}/stress"],
            ["sample", "--out", f"{UNWRITABLE}/sample"],
            ["scenario", "--out", f"{UNWRITABLE}/s", "--kind", "run", "--start", "2021-03-20"],
        )
        if Path(UNWRITABLE).is_dir()
    ),
    # an explicitly empty product list is refused, not read as "every product"
    *(
        ([command, "--products", ids, *rest], EMPTY_PRODUCTS)
        for command, rest in (
            ("plan", ["--no-tracking"]),
            ("stress", ["--out", "s"]),
            ("backtest", ["--no-tracking", "--policy", "none"]),
            ("run", []),
            ("scenario", ["--out", "s", "--kind", "run", "--start", "2021-03-20"]),
        )
        for ids in ("", ",", " , ")
    ),
]


@pytest.mark.parametrize("argv, named", BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_every_bad_argument_exits_2_before_any_work(
    workdir, data, monkeypatch, capsys, argv, named
):
    import rainmaker.dataset
    import simulate.sample

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("work started before the arguments were checked")

    for module, name in (
        (rainmaker.dataset, "load_dataset"),
        (simulate.sample, "generate_sample"),
    ):
        monkeypatch.setattr(module, name, forbidden)
    command, rest = argv[0], argv[1:]
    uses_data = command not in ("sample", "run", "demo", "history") and "--data" not in rest
    code = _main([command, *(["--data", str(data)] if uses_data else []), *rest])
    err = capsys.readouterr().err
    assert code == 2, err
    assert named in err and "unexpected error" not in err and "Traceback" not in err
    assert not (workdir / "runs").exists() and not (workdir / "out").exists()


@pytest.mark.parametrize(
    ("command", "rest"),
    [
        ("plan", []),
        ("run", []),
        ("backtest", []),
        ("stress", ["--out", "s"]),
        ("scenario", ["--out", "s", "--kind", "run", "--start", "2021-03-20"]),
    ],
)
def test_products_given_in_any_order_or_repeated_are_one_selection(command, rest) -> None:
    """--products P02,P01,P01 is P01,P02 for every command (a new plan revision before, and
    the order handed on to plan, stress and scenario); the help says so."""
    args = cli.build_parser().parse_args([command, "--products", " P02,P01,,P01 ", *rest])
    assert args.products == ("P01", "P02")
    sub = next(a for a in cli.build_parser()._actions if a.dest == "command").choices[command]
    assert "order and repeats do not matter" in " ".join(sub.format_help().split())


def test_a_product_id_that_starts_with_a_dash_is_the_value_of_products(workdir, data, capsys):
    # argparse takes "-P01" for an option ("expected one argument"): the command line joins it
    # to --products, as --products=-P01 always was
    for argv in (["--products", "-P01"], ["--products=-P01"]):
        args = cli.build_parser().parse_args(["backtest", *cli._products_joined(argv)])
        assert args.products == ("-P01",)
    assert cli._products_joined(["--products", "--no-tracking"]) == ["--products", "--no-tracking"]
    assert cli._products_joined(["--", "--products", "-P01"]) == ["--", "--products", "-P01"]
    # through main: the id reaches the data check, which names it
    assert _main(["plan", "--data", str(data), "--products", "-P999", "--no-tracking"]) == 2
    err = capsys.readouterr().err
    assert "-P999" in err and "expected one argument" not in err
    # an id that starts with "--" still needs the "=": the error says so
    assert _main(["plan", "--products", "--P01"]) == 2
    assert "--products=-P01" in capsys.readouterr().err


# arguments that can only be judged against the data: still exit 2, never 1
DATA_DEPENDENT = [
    (["forecast", "--out", "f.csv", "--as-of", "2030-01-01"], "after the last flows day"),
    (["forecast", "--out", "f.csv", "--as-of", "1999-01-01"], "as-of day"),
    (["plan", "--as-of", "2030-01-01", "--no-tracking"], "outside the flows"),
    (["plan", "--products", "P999", "--no-tracking"], "P999"),
    (
        ["backtest", "--products", "P999", "--start", "2021-03-20", "--end", "2021-03-25"]
        + ["--no-tracking", "--policy", "none"],
        "P999",
    ),
    (["backtest", "--start", "1990-01-01", "--no-tracking", "--policy", "none"], "1990"),
    (["evaluate-forecast", "--start", "2030-01-01", "--tracking-uri", ""], "2030"),
]


@pytest.mark.parametrize(
    "argv, named", DATA_DEPENDENT, ids=[" ".join(a) for a, _ in DATA_DEPENDENT]
)
def test_arguments_judged_against_the_data_exit_2(workdir, data, capsys, argv, named):
    assert _main([argv[0], "--data", str(data), *argv[1:]]) == 2
    err = capsys.readouterr().err
    assert named in err and "unexpected error" not in err


# bad cells: (file, column) -> a strategy of values that break the contract, or may not
CELL_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "-1",
            "1e30",
            "1e309",
            "abc",
            "1,5",
            "0x10",
            "2021/03/05",
            "05/03/2021",
            "2021-02-30",
            "99999-01-01",
            "NULL",
            "=1+1",
            "P\x00",
            "\u200b",
            "$x^2$",
            "\t",
            "１２３",
        ]
    ),
    st.text(alphabet=string.printable + "\x00\x07\u202e\u3000中", max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
CELLS = (
    [("products.csv", c) for c in ("product_id", "issuer", "product_type", "fee_bp")]
    + [
        ("flows.csv", c)
        for c in ("date", "product_id", "subscriptions", "redemptions", "aum", "quota", "exposure")
    ]
    + [("market.csv", c) for c in ("date", "shibor_on", "shibor_1w", "benchmark_yield_7d")]
)


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cell=st.sampled_from(CELLS), row=st.integers(0, 40), value=CELL_VALUES)
def test_bad_values_are_named_by_file_and_column(tmp_path_factory, data, cell, row, value):
    folder = tmp_path_factory.mktemp("bad")
    for path in data.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    file, column = cell
    frame = pd.read_csv(folder / file, dtype=str, keep_default_na=False)
    frame.loc[row % len(frame), column] = value
    frame.to_csv(folder / file, index=False)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = _main(["validate", "--data", str(folder)])
    assert code in (0, 2)
    if code == 2:
        assert "unexpected error" not in err.getvalue()
        assert f"{file}" in err.getvalue()


ID_CHARACTERS = st.sampled_from(
    list("=+-@'\"$\\^_{}%&<>#,;: ") + ["\x00", "\t", "\n", "\x1b", "\u200b", "\u202e", "中", "é"]
)
IDS = st.text(
    alphabet=st.one_of(ID_CHARACTERS, st.sampled_from(list("Pab01"))), min_size=1, max_size=8
)


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ids=st.lists(IDS, min_size=2, max_size=2, unique=True))
def test_generated_ids_are_refused_or_planned_safely(tmp_path_factory, ids):
    """An id either fails validation naming the column (exit 2) or is planned (exit 0) into
    files where it is text: no formula in the workbook, none at the start of a CSV cell."""
    folder = tmp_path_factory.mktemp("ids")
    write_dataset(folder / "data", n_products=2, n_days=30)
    mapping = dict(zip(("P001", "P002"), ids, strict=True))
    for name in ("products.csv", "flows.csv"):
        frame = pd.read_csv(folder / "data" / name, dtype=str, keep_default_na=False)
        frame["product_id"] = frame["product_id"].map(mapping)
        frame.to_csv(folder / "data" / name, index=False)
    out = folder / "plan"
    argv = ["plan", "--data", str(folder / "data"), "--out", str(out), "--no-tracking"]
    err = io.StringIO()
    fakes = functools.partial(daily.Steps, fake_run_forecast, fake_make_plan)
    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        patch.setattr(pipeline, "Steps", fakes)
        code = _main([*argv, "--horizon", "3", "--lang", "en"])
    assert code in (0, 2), err.getvalue()
    assert "unexpected error" not in err.getvalue()
    if code == 2:
        assert "product_id" in err.getvalue()
        return
    book = load_workbook(out / "plan.xlsx")
    assert not any(c.data_type == "f" for s in book for row in s.iter_rows() for c in row)
    plan = pd.read_csv(out / "plan.csv", dtype=str, keep_default_na=False)
    assert not plan["product_id"].str.startswith(("=", "+", "-", "@", "\t", "\r")).any()


def test_validate_checks_the_optional_holders_table(tmp_path, data):
    # holders.csv feeds the plan's concentration limits and the stress test: a bad one is
    # found by validate, with its file, column and line, not by the morning's job
    for path in data.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "holders.csv").write_text(
        "date,product_id,top10_share\n2022-06-01,P01,0.3\n2022-06-01,P01,1.5\n", encoding="utf-8"
    )
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = _main(["validate", "--data", str(tmp_path)])
    assert code == 2
    assert "holders.csv, column 'top10_share'" in err.getvalue() and "line 3" in err.getvalue()


# every team table the plan, the stress test or the backtest reads, each with a problem those
# commands stop on (or used to pass over without a word): (file, text, what validate names)
TEAM_TABLE_CASES = {
    "holders twice a day": (
        "holders.csv",
        "date,product_id,top10_share\n2021-04-01,P001,0.3\n2021-04-01,P001,0.9\n",
        "holders.csv, column 'date': duplicate (date, product_id)",
    ),
    "mix of an unknown product": (
        "investment_mix.csv",
        "product_id,bucket,share\nP001 ,repo_1d,1.0\n",
        "investment_mix.csv, column 'product_id': unknown product",
    ),
    "mix in an unknown bucket": (
        "investment_mix.csv",
        "product_id,bucket,share\nP001,gold,1.0\n",
        "investment_mix.csv, column 'bucket': unknown bucket; expected one of cash, repo_1d, "
        "repo_7d, ncd_1m, ncd_3m, ncd_6m",
    ),
    "holdings in an unknown bucket": (
        "holdings.csv",
        "product_id,bucket,amount_cny,rate_pct,maturity_date\nP001,ncd_2y,1e8,2.5,2023-01-01\n",
        "holdings.csv, column 'bucket': unknown bucket; expected one of cash, ncd_1m, ncd_3m, "
        "ncd_6m, repo_1d, repo_7d",
    ),
    "holdings below zero": (
        "holdings.csv",
        "product_id,bucket,amount_cny,rate_pct,maturity_date\nP001,cash,-5e8,,\n"
        "P001,ncd_1m,1e8,2.5,2099-01-01\n",
        "holdings.csv, column 'amount_cny': a product's positions sum to less than zero",
    ),
    "holdings of an implausible size": (
        "holdings.csv",
        "product_id,bucket,amount_cny,rate_pct,maturity_date\nP001,ncd_1m,1e30,2.5,2099-01-01\n",
        "holdings.csv, column 'amount_cny': more than 100,000 times the product's AUM",
    ),
    "sales plan of an implausible size": (
        "sales_plan.csv",
        "channel,start,end,target_cny\nnowhere,2021-04-01,2021-04-30,1e30\n",
        "sales_plan.csv, column 'target_cny': more than 100,000 times the products' total AUM",
    ),
    "sales plan of an unknown channel": (
        "sales_plan.csv",
        "channel,start,end,target_cny\nnowhere,2021-04-01,2021-04-30,1e8\n",
        "sales_plan.csv, column 'channel'",
    ),
    "response of an unknown product": (
        "exposure_response.csv",
        "product_id,a,e0\nP001,0.1,1.0\nP009,0.1,1.0\n",
        "exposure_response.csv, column 'product_id': unknown product",
    ),
    "response with a bad sensitivity": (
        "exposure_response.csv",
        "product_id,a,e0\nP001,-0.1,1.0\nP002,x,1.0\n",
        "exposure_response.csv, column 'a': expected a number a >= 0 (the curve's sensitivity) "
        "[lines 2, 3]",
    ),
    "response with a bad scale": (
        # was reported under column 'a'
        "exposure_response.csv",
        "product_id,a,e0\nP001,0.1,-1\nP002,0.2,0\n",
        "exposure_response.csv, column 'e0': expected a number e0 > 0 (the exposure scale, in "
        "its unit) [lines 2, 3]",
    ),
    "response given twice": (
        "exposure_response.csv",
        "product_id,a,e0\nP001,0.1,1.0\nP001,0.3,2.0\n",
        "exposure_response.csv, column 'product_id': expected one row per product",
    ),
}


@pytest.mark.parametrize("case", list(TEAM_TABLE_CASES), ids=list(TEAM_TABLE_CASES))
def test_validate_reads_every_team_table_as_the_commands_do(tmp_path, data, case):
    file, text, named = TEAM_TABLE_CASES[case]
    for path in data.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / file).write_text(text, encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = _main(["validate", "--data", str(tmp_path)])
    assert code == 2, err.getvalue()
    assert named in err.getvalue()


def test_validate_accepts_good_team_tables(tmp_path, data):
    for path in data.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    tables = {
        "holders.csv": "date,product_id,top10_share\n2021-04-01,P001,0.3\n",
        "investment_mix.csv": "product_id,bucket,share\nP001,repo_1d,0.4\nP001,ncd_1m,0.6\n",
        "holdings.csv": "product_id,bucket,amount_cny,rate_pct,maturity_date\n"
        "P001,cash,-1e6,,\nP001,ncd_1m,1e8,2.5,2099-01-01\n",
        "exposure_response.csv": "product_id,a,e0\nP001,0.1,1.0\nP002,0.2,1.5\n",
    }
    for name, text in tables.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(out):
        code = _main(["validate", "--data", str(tmp_path)])
    assert code == 0 and "valid" in out.getvalue()


def test_validate_checks_the_optional_investment_mix(tmp_path, data):
    # the plan, the stress test and the backtest read investment_mix.csv: a purchase cap of 0
    # used to pass validate and stop those commands (exit 2) instead
    for path in data.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "investment_mix.csv").write_text(
        "product_id,bucket,share,max_daily_purchase_pct\nP01,repo_1d,1.0,0\n", encoding="utf-8"
    )
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = _main(["validate", "--data", str(tmp_path)])
    assert code == 2
    message = err.getvalue()
    assert "investment_mix.csv, column 'max_daily_purchase_pct'" in message
    assert "expected a percentage of AUM > 0" in message and "line 2" in message


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_wam_cap_of_zero_days_exits_2_naming_file_column_and_line(tmp_path, data, command):
    # products.csv max_wam_days = 0 was accepted although the optimizer's settings file asks
    # for a WAM cap above 0; validate and plan refuse it before any work, with the line
    for path in data.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    products = pd.read_csv(tmp_path / "products.csv", dtype=str, keep_default_na=False)
    products["max_wam_days"] = ["60", "0"]
    products.to_csv(tmp_path / "products.csv", index=False)
    argv = [command, "--data", str(tmp_path)]
    if command == "plan":
        argv += ["--out", str(tmp_path / "out"), "--no-tracking"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = _main(argv)
    assert code == 2, err.getvalue()
    message = err.getvalue()
    assert "products.csv, column 'max_wam_days'" in message and "line 3" in message
    assert "expected a number > 0 or an empty cell" in message
    assert "unexpected error" not in message


def test_plan_says_on_stderr_and_in_run_json_what_its_report_warns_of(tmp_path, data):
    """A market.csv without shibor_6m prices 6-month NCDs off the 1-week rate: the plan's
    warning went to report.html alone; the log and run.json say it too."""
    import json

    out = tmp_path / "plan"
    err = io.StringIO()
    argv = ["plan", "--data", str(data), "--out", str(out), "--no-tracking", "--horizon", "3"]
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert _main(argv) == 0
    said = "plan: market.csv has no shibor_6m: ncd_6m are priced at shibor_1w"
    assert said in err.getvalue()
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert any(said in w for w in run["warnings"])


def test_a_product_closed_before_the_as_of_day_is_not_counted_as_planned(tmp_path, data):
    """P002's flows end before the last day: the plan leaves it out with a warning, and the
    summary and run.json count the products planned, not those of products.csv."""
    import json

    folder = tmp_path / "data"
    copy_closing_early(data, folder, "P002")
    out = tmp_path / "plan"
    said = io.StringIO()
    argv = ["plan", "--data", str(folder), "--out", str(out), "--no-tracking", "--horizon", "3"]
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(said):
        assert _main(argv) == 0
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["products"] == ["P001"] and run["n_products"] == 1
    assert "for 1 products" in said.getvalue()
    assert set(pd.read_csv(out / "plan.csv")["product_id"]) == {"P001"}


def test_status_names_the_product_of_an_alert_once(tmp_path, monkeypatch, capsys):
    # the report's alert texts begin with the product ("P01: liquid assets ..."); the status
    # line printed "P01: P01: liquid assets ..." (with ids like '+1,2"q"' too)
    import rainmaker.app.ops

    def status(_config, _now):
        return {
            "status": "alert",
            "exit_code": 6,
            "data_age_days": 1,
            "checks": [],
            "alerts": [
                {"severity": "info", "product_id": '+1,2"q"', "text": '+1,2"q": liquid 48.5%'},
                {"severity": "warning", "product_id": "P02", "text": "drift of the forecast"},
                {"severity": "critical", "product_id": "", "text": "solver failed"},
            ],
            "in_effect": {"output_dir": "2022-06-15/r1", "as_of": "2022-06-15", "report": "r"},
            "last_success": {"output_dir": "2022-06-15/r1", "created_at": "t", "age_hours": 0.0},
        }

    monkeypatch.setattr(rainmaker.app.ops, "job_status", status)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["status"]) == 6
    out = capsys.readouterr().out
    assert '  alert info: +1,2"q": liquid 48.5%\n' in out
    assert "  alert warning: P02: drift of the forecast\n" in out
    assert "  alert critical: solver failed\n" in out


def test_plan_reads_the_holiday_arrangement_of_a_calendar_file(tmp_path):
    """A year after the holiday package's coverage: with the arrangement in calendar.csv the
    plan buys nothing on its days off, the next working day is the one after the stretch, and
    no line says the calendar assumes weekends only. (The arrangement is made up.)"""
    from rainmaker.china_calendar import package_years

    year = package_years().stop
    data = write_dataset(tmp_path / "data", n_products=2, n_days=52, start=f"{year - 1}-12-15")
    first = pd.Timestamp(f"{year}-02-06")
    festival = pd.date_range(first, periods=9)
    pd.DataFrame(
        {"date": festival.strftime("%Y-%m-%d"), "kind": "holiday", "holiday": "Spring Festival"}
    ).to_csv(data / "calendar.csv", index=False)
    err = io.StringIO()
    out = tmp_path / "out"
    argv = ["plan", "--data", str(data), "--out", str(out), "--no-tracking"]
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = _main(argv)
    assert code == 0, err.getvalue()
    assert "weekends only" not in err.getvalue()
    plan = pd.read_csv(out / "plan.csv", parse_dates=["date"])
    assert plan["date"].min() == first - pd.Timedelta(days=1)  # the eve, a Friday
    bought = plan.filter(like="purchase_").sum(axis=1)
    assert (bought[plan["date"].isin(festival)] == 0).all()
    after = plan.loc[plan["next_working_day"], "date"].unique()
    assert list(after) == [festival[-1] + pd.Timedelta(days=1)]
