"""Tests of rainmaker.dataset: typed loading, no-look-ahead cuts, daily market, fingerprint."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rainmaker.dataset import Dataset, load_dataset, parse_day, read_table
from rainmaker.errors import DataError, UsageError


@pytest.fixture
def folder(tmp_path: Path, make_dataset) -> Path:
    return make_dataset(tmp_path / "data")


@pytest.fixture
def dataset(folder: Path) -> Dataset:
    return load_dataset(folder)


def rewrite(path: Path, change) -> None:
    cells = pd.read_csv(path, dtype=str, keep_default_na=False)
    changed = change(cells)
    (cells if changed is None else changed).to_csv(path, index=False)


def test_tables_have_contract_types(dataset: Dataset) -> None:
    flows, products, market = dataset.flows, dataset.products, dataset.market
    assert flows["date"].dtype == "datetime64[ns]"
    assert (flows["date"] == flows["date"].dt.normalize()).all()
    for column in ("subscriptions", "redemptions", "aum", "quota", "exposure"):
        assert flows[column].dtype == np.float64, column
    assert pd.api.types.is_string_dtype(flows["product_id"])
    for column in ("product_id", "issuer", "product_type"):
        assert pd.api.types.is_string_dtype(products[column]), column
    assert products["fee_bp"].dtype == np.float64
    assert market["date"].dtype == "datetime64[ns]"
    assert all(market[c].dtype == np.float64 for c in market.columns if c != "date")
    assert market["date"].is_monotonic_increasing
    # quota is empty on most days: NaN means "no cap", not zero
    assert flows["quota"].isna().sum() > 0 and (flows["quota"].dropna() > 0).all()


def test_flows_sorted_by_product_then_date_with_range_index(dataset: Dataset) -> None:
    flows = dataset.flows
    assert isinstance(flows.index, pd.RangeIndex)
    ordered = flows.sort_values(["product_id", "date"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(flows, ordered)
    assert flows["product_id"].iloc[0] == "P001" and flows["product_id"].iloc[-1] == "P003"


def test_values_are_read_exactly(folder: Path, dataset: Dataset) -> None:
    cells = pd.read_csv(folder / "flows.csv", dtype=str, keep_default_na=False)
    row = cells.iloc[40]
    loaded = dataset.flows.set_index(["product_id", "date"]).loc[
        (row["product_id"], pd.Timestamp(row["date"]))
    ]
    assert loaded["aum"] == float(row["aum"])
    assert loaded["subscriptions"] == float(row["subscriptions"])


def test_dates_and_ids(dataset: Dataset) -> None:
    assert dataset.first_date == pd.Timestamp("2021-03-01")
    assert dataset.last_date == pd.Timestamp("2021-04-29")
    assert dataset.product_ids == ("P001", "P002", "P003")


def test_ids_with_leading_zeros_stay_text(folder: Path) -> None:
    for name in ("products.csv", "flows.csv"):
        path = folder / name
        path.write_text(path.read_text().replace("P00", "00"))
    dataset = load_dataset(folder)
    assert dataset.product_ids == ("001", "002", "003")
    assert set(dataset.products["product_id"]) == {"001", "002", "003"}


def test_bad_data_raises_every_problem(folder: Path) -> None:
    rewrite(folder / "flows.csv", lambda c: c.assign(aum=c["aum"].where(c.index != 5, "-3")))
    rewrite(folder / "products.csv", lambda c: c.drop(columns="issuer"))
    with pytest.raises(DataError) as caught:
        load_dataset(folder)
    where = {(p.file, p.column) for p in caught.value.problems}
    assert where == {("flows.csv", "aum"), ("products.csv", "issuer")}
    assert caught.value.exit_code == 2
    assert "flows.csv, column 'aum'" in str(caught.value)


def test_warnings_are_kept(folder: Path) -> None:
    rewrite(folder / "flows.csv", lambda c: c.assign(aum=c["aum"].where(c.index != 30, "1.00")))
    dataset = load_dataset(folder)
    assert len(dataset.warnings) == 1 and dataset.warnings[0].column == "aum"


def test_optional_and_extra_columns_are_kept(folder: Path) -> None:
    rewrite(folder / "flows.csv", lambda c: c.assign(channel="app", yield_7d=""))
    rewrite(folder / "products.csv", lambda c: c.assign(launch_date="2020-01-15", name="Cash+"))
    dataset = load_dataset(folder)
    assert (dataset.flows["channel"] == "app").all()
    assert dataset.flows["yield_7d"].dtype == np.float64 and dataset.flows["yield_7d"].isna().all()
    assert dataset.products["launch_date"].dtype == "datetime64[ns]"
    assert list(dataset.products.columns)[-2:] == ["launch_date", "name"]


def test_up_to_drops_every_later_row(folder: Path) -> None:
    pd.DataFrame(
        {
            "date": ["2021-03-05", "2021-03-20", "2021-04-20"],
            "product_id": ["P001", "P002", "P001"],
            "target": ["1000000", "2000000", "3000000"],
        }
    ).to_csv(folder / "sales_plan.csv", index=False)
    pd.DataFrame({"channel": ["app", "web"], "limit": [1.0, 2.0]}).to_csv(
        folder / "channels.csv", index=False
    )
    full = load_dataset(folder)
    cut = full.up_to("2021-03-20")
    assert cut.flows["date"].max() == pd.Timestamp("2021-03-20")
    assert cut.market["date"].max() <= pd.Timestamp("2021-03-20")
    assert len(cut.flows) == 20 * 3
    assert list(cut.tables["sales_plan"]["target"]) == [1e6, 2e6]
    pd.testing.assert_frame_equal(cut.tables["channels"], full.tables["channels"])
    pd.testing.assert_frame_equal(cut.products, full.products)
    assert isinstance(cut.flows.index, pd.RangeIndex)
    assert cut.fingerprint == full.fingerprint
    # the original is untouched
    assert full.flows["date"].max() == pd.Timestamp("2021-04-29")


def test_up_to_is_what_a_truncated_folder_loads(folder: Path, tmp_path: Path) -> None:
    truncated = Path(shutil.copytree(folder, tmp_path / "truncated"))
    rewrite(truncated / "flows.csv", lambda c: c[c["date"] <= "2021-04-02"])
    rewrite(truncated / "market.csv", lambda c: c[c["date"] <= "2021-04-02"])
    cut = load_dataset(folder).up_to(pd.Timestamp("2021-04-02 15:30"))
    short = load_dataset(truncated)
    pd.testing.assert_frame_equal(cut.flows, short.flows)
    pd.testing.assert_frame_equal(cut.market, short.market)


def test_up_to_before_the_first_day_is_a_usage_error(dataset: Dataset) -> None:
    with pytest.raises(UsageError, match="precedes the first flows date"):
        dataset.up_to("2021-02-28")
    with pytest.raises(UsageError, match="not a date"):
        dataset.up_to("yesterday-ish")


@pytest.mark.parametrize(
    "text", ["2022", "2022/06/01", "01/06/2022", "15/06/2022", "20220601", "2022-6-1", "2022-02-30"]
)
def test_days_are_iso_only(text: str) -> None:
    with pytest.raises(UsageError, match="expected an ISO date YYYY-MM-DD"):
        parse_day(text, "--as-of")


def test_days_as_dates_and_iso_text() -> None:
    assert parse_day(" 2022-06-01 ", "--as-of") == pd.Timestamp("2022-06-01")
    assert parse_day(pd.Timestamp("2022-06-01 15:30"), "x") == pd.Timestamp("2022-06-01")
    for missing in ("", None):
        with pytest.raises(UsageError, match="is missing"):
            parse_day(missing, "--end")
    with pytest.raises(UsageError, match="not a date"):
        parse_day(20220601, "--end")


def test_market_daily_has_every_day_and_carries_forward(dataset: Dataset) -> None:
    daily = dataset.market_daily()
    assert daily.index[0] == dataset.first_date and daily.index[-1] == dataset.last_date
    assert len(daily) == 60 and daily.index.name == "date"
    assert daily.index.dtype == "datetime64[ns]"
    assert daily.notna().all().all()
    published = dataset.market.set_index("date")
    friday, saturday, sunday = (pd.Timestamp(d) for d in ("2021-03-05", "2021-03-06", "2021-03-07"))
    assert saturday not in published.index
    pd.testing.assert_series_equal(daily.loc[saturday], published.loc[friday], check_names=False)
    pd.testing.assert_series_equal(daily.loc[sunday], published.loc[friday], check_names=False)
    window = dataset.market_daily("2021-03-10", "2021-03-12")
    assert list(window.index) == list(pd.date_range("2021-03-10", "2021-03-12"))


def test_market_daily_never_looks_ahead(folder: Path) -> None:
    before = load_dataset(folder).market_daily("2021-03-01", "2021-04-10")
    later = pd.DataFrame(
        {
            "date": ["2021-04-30", "2021-05-01"],
            "shibor_on": ["9.9", "9.9"],
            "shibor_1w": ["9.9", "9.9"],
            "shibor_1m": ["9.9", "9.9"],
            "shibor_3m": ["9.9", "9.9"],
            "benchmark_yield_7d": ["9.9", "9.9"],
        }
    )
    rewrite(folder / "market.csv", lambda c: pd.concat([c, later]))
    after = load_dataset(folder).market_daily("2021-03-01", "2021-04-10")
    pd.testing.assert_frame_equal(before, after)


def test_market_daily_before_first_publication_names_the_file(dataset: Dataset) -> None:
    first = dataset.market["date"].min()
    with pytest.raises(DataError) as caught:
        dataset.market_daily(first - pd.Timedelta(days=1), "2021-03-10")
    problem = caught.value.problems[0]
    assert (problem.file, problem.column) == ("market.csv", "date")
    with pytest.raises(UsageError):
        dataset.market_daily("2021-03-10", "2021-03-01")


@settings(max_examples=40, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 40), min_size=1, max_size=15, unique=True),
    extra_days=st.integers(0, 10),
)
def test_market_daily_is_the_latest_publication_on_or_before_each_day(
    offsets: list[int], extra_days: int
) -> None:
    start = pd.Timestamp("2022-01-01")
    days = sorted(start + pd.Timedelta(days=o) for o in offsets)
    market = pd.DataFrame(
        {"date": pd.DatetimeIndex(days).as_unit("ns"), "shibor_on": np.arange(len(days)) + 0.5}
    )
    flows = pd.DataFrame(
        {"date": pd.date_range(days[0], days[-1] + pd.Timedelta(days=extra_days)).as_unit("ns")}
    ).assign(product_id="P1")
    dataset = Dataset(root=Path("."), products=pd.DataFrame(), flows=flows, market=market)
    daily = dataset.market_daily()
    for day, value in daily["shibor_on"].items():
        latest = max(i for i, d in enumerate(days) if d <= day)
        assert value == latest + 0.5


def test_fingerprint_is_stable(folder: Path, tmp_path: Path) -> None:
    first = load_dataset(folder).fingerprint
    assert len(first) >= 16 and all(ch in "0123456789abcdef" for ch in first)
    assert load_dataset(folder).fingerprint == first
    moved = Path(shutil.copytree(folder, tmp_path / "elsewhere"))
    assert load_dataset(moved).fingerprint == first  # the folder's location does not count


def test_fingerprint_changes_with_any_byte_or_table(folder: Path) -> None:
    first = load_dataset(folder).fingerprint
    text = (folder / "flows.csv").read_text()
    last_digit = text.rstrip()[-1]
    (folder / "flows.csv").write_text(text.rstrip()[:-1] + str((int(last_digit) + 1) % 10) + "\n")
    changed = load_dataset(folder).fingerprint
    assert changed != first
    pd.DataFrame({"channel": ["app"], "limit": [1.0]}).to_csv(folder / "limits.csv", index=False)
    assert load_dataset(folder).fingerprint not in (first, changed)


def test_extra_tables_are_loaded_with_dates_and_ids(folder: Path) -> None:
    pd.DataFrame(
        {
            "date": ["2021-03-01", "2021-03-02"],
            "product_id": ["007", "008"],
            "target": ["1500000.5", ""],
            "channel": ["app", "web"],
            "start_date": ["2021-01-01", ""],
        }
    ).to_csv(folder / "sales_plan.csv", index=False)
    pd.DataFrame(
        {
            "product_id": ["P001", "P001"],
            "bucket": ["repo_1d", "ncd_3m"],
            "amount": [1e6, 2e6],
            "maturity_date": pd.to_datetime(["2021-03-02", "2021-06-01"]).date,
        }
    ).to_parquet(folder / "holdings.parquet")
    (folder / "notes.txt").write_text("not a table")
    dataset = load_dataset(folder)
    assert sorted(dataset.tables) == ["holdings", "sales_plan"]
    plan = dataset.tables["sales_plan"]
    assert plan["date"].dtype == "datetime64[ns]"
    assert list(plan["product_id"]) == ["007", "008"]
    assert plan["target"].dtype == np.float64 and np.isnan(plan["target"].iloc[1])
    assert list(plan["channel"]) == ["app", "web"]
    assert plan["start_date"].iloc[0] == pd.Timestamp("2021-01-01")
    assert pd.isna(plan["start_date"].iloc[1])
    holdings = dataset.tables["holdings"]
    assert holdings["maturity_date"].dtype == "datetime64[ns]"
    assert holdings["amount"].dtype == np.float64
    assert dataset.files["holdings"] == "holdings.parquet"


def test_read_table_prefers_parquet(folder: Path) -> None:
    pd.DataFrame({"date": ["2021-03-01"], "target": ["1"]}).to_csv(
        folder / "sales_plan.csv", index=False
    )
    pd.DataFrame({"date": pd.to_datetime(["2021-03-02"]), "target": [2.0]}).to_parquet(
        folder / "sales_plan.parquet"
    )
    frame, name = read_table(folder, "sales_plan")
    assert name == "sales_plan.parquet"
    assert frame["date"].iloc[0] == pd.Timestamp("2021-03-02") and frame["target"].iloc[0] == 2.0
    assert load_dataset(folder).tables["sales_plan"]["target"].iloc[0] == 2.0


def test_read_table_missing_or_bad(folder: Path) -> None:
    with pytest.raises(DataError, match="no_such"):
        read_table(folder, "no_such")
    pd.DataFrame({"plan_date": ["01/03/2021"]}).to_csv(folder / "plan.csv", index=False)
    with pytest.raises(DataError) as caught:
        read_table(folder, "plan")
    assert (caught.value.problems[0].file, caught.value.problems[0].column) == (
        "plan.csv",
        "plan_date",
    )


def test_selecting_products_keeps_the_sales_targets_of_their_channels(
    sample_dir: Path, tmp_path: Path
) -> None:
    """``--products P04`` on a data set whose sales plan also targets P01's channel: P01's
    channel's row goes with P01 (it used to fail the plan with "no product has this channel"),
    P04's stays, and a channel no product has stays for the plan's check to report."""
    folder = tmp_path / "sales"
    shutil.copytree(sample_dir, folder)
    (folder / "sales_plan.csv").write_text(
        "channel,start,end,target_cny\n"
        "partner_platform,2022-06-01,2022-06-30,5e9\n"
        "mobile_app,2022-06-01,2022-06-30,3e9\n"
        "no_such_channel,2022-06-01,2022-06-30,1e9\n"
    )
    dataset = load_dataset(folder)
    channel = dict(zip(dataset.products["product_id"], dataset.products["channel"], strict=True))
    assert (channel["P01"], channel["P04"]) == ("partner_platform", "mobile_app")
    others = [p for p, c in channel.items() if c == "partner_platform" and p != "P01"]
    selected = dataset.select(["P04"]).tables["sales_plan"]
    assert list(selected["channel"]) == ["mobile_app", "no_such_channel"]
    # a channel with one product selected keeps its row
    if others:
        kept = dataset.select(["P04", others[0]]).tables["sales_plan"]
        assert "partner_platform" in set(kept["channel"])
    assert len(dataset.tables["sales_plan"]) == 3  # the data set itself is unchanged


def test_products_on_a_day_and_those_holding_nothing(folder: Path) -> None:
    path = folder / "flows.csv"
    cells = pd.read_csv(path, dtype=str, keep_default_na=False)
    day = cells["date"].iloc[-1]
    ids = sorted(cells["product_id"].unique())
    # the last day: the first product fully redeemed, the second without a row
    emptied = (cells["product_id"] == ids[0]) & (cells["date"] == day)
    cells.loc[emptied, "aum"] = "0"
    cells = cells.loc[~((cells["product_id"] == ids[1]) & (cells["date"] == day))]
    cells.to_csv(path, index=False)
    dataset = load_dataset(folder)

    on_day, empty = dataset.products_on(pd.Timestamp(day))
    assert on_day == (ids[0], *ids[2:])
    assert empty == (ids[0],)
    assert dataset.products_on(pd.Timestamp("1999-01-01")) == ((), ())
