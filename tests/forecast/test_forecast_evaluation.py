"""evaluate-forecast's coverage per product, per issuer and for the total: sums of the sample
paths against sums of the outcomes."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import ForecastFallbackWarning
from forecast.evaluation import EvaluationResult, evaluate_forecast, group_coverage
from forecast.toy_data import toy_dataset


def test_coverage_per_product_issuer_and_total() -> None:
    dataset = toy_dataset(n_products=6, start="2020-01-01", end="2020-12-31", seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        evaluation = evaluate_forecast(
            dataset, "2020-11-03", "2020-12-15", 14, ("seasonal_naive", "ets"), step_days=14
        )
    groups = evaluation.groups
    issuers = dataset.products.set_index("product_id")["issuer"]
    assert set(groups["level"]) == {"issuer", "total"}
    assert set(groups.loc[groups["level"] == "issuer", "group"]) == set(issuers)
    assert (groups["p10"] <= groups["p50"]).all() and (groups["p50"] <= groups["p90"]).all()
    # The total's outcome is the sum of the products' outcomes on that day.
    rows = evaluation.forecasts
    auto = rows[(rows["model"] == "auto") & (rows["variable"] == "redemptions")]
    day = auto["date"].iloc[0]
    origin = auto["origin"].iloc[0]
    expected = auto[(auto["date"] == day) & (auto["origin"] == origin)]["actual"].sum()
    total = groups[
        (groups["model"] == "auto")
        & (groups["level"] == "total")
        & (groups["variable"] == "redemptions")
        & (groups["date"] == day)
        & (groups["origin"] == origin)
    ]
    assert np.isclose(total["actual"].iloc[0], expected)
    # One issuer holding one product: its sum is that product's forecast, up to the
    # quantiles of 200 paths (the same paths, so the same quantiles).
    single = issuers.value_counts()
    lone = single[single == 1].index
    for issuer in lone:
        product = issuers[issuers == issuer].index[0]
        own = auto[auto["product_id"] == product].set_index(["origin", "date"])["p90"]
        summed = groups[
            (groups["model"] == "auto")
            & (groups["group"] == issuer)
            & (groups["variable"] == "redemptions")
        ].set_index(["origin", "date"])["p90"]
        assert np.allclose(own.sort_index(), summed.sort_index())
    coverage = evaluation.coverage()
    assert set(coverage["level"]) == {"product", "issuer", "total"}
    assert coverage["coverage_80"].between(0, 1).all()
    per_product = coverage[(coverage["level"] == "product") & (coverage["model"] == "auto")]
    assert set(per_product["group"]) == set(dataset.products["product_id"])
    assert "issuers (min-max)" in evaluation.table()


def test_group_coverage_by_hand() -> None:
    forecasts = pd.DataFrame(
        {
            "model": "auto",
            "variable": "redemptions",
            "product_id": ["A", "A", "B", "B"],
            "actual": [10.0, 20.0, 5.0, np.nan],
            "p10": [8.0, 8.0, 6.0, 1.0],
            "p50": [10.0, 10.0, 7.0, 2.0],
            "p90": [12.0, 12.0, 8.0, 3.0],
        }
    )
    groups = pd.DataFrame(
        {
            "model": "auto",
            "variable": "redemptions",
            "level": "total",
            "group": "total",
            "actual": [15.0, np.nan],
            "p10": [14.0, 1.0],
            "p50": [17.0, 2.0],
            "p90": [20.0, 3.0],
        }
    )
    table = group_coverage(forecasts, groups).set_index(["level", "group"])
    assert table.loc[("product", "A"), "coverage_80"] == 0.5
    assert table.loc[("product", "A"), "wape"] == 10.0 / 30.0
    assert table.loc[("product", "B"), "coverage_80"] == 0.0
    assert table.loc[("product", "B"), "n"] == 1
    assert table.loc[("total", "total"), "coverage_80"] == 1.0
    assert list(table.index.get_level_values("level")) == ["total", "product", "product"]


def test_group_coverage_counts_an_outcome_on_a_flat_band_as_inside() -> None:
    # a product with the same flows every day: p10 = p90 = the outcome, up to float rounding
    # of the paths' sums (0.1 + 0.2 against 0.3)
    forecasts = pd.DataFrame(
        {
            "model": "auto",
            "variable": "subscriptions",
            "product_id": ["A", "A"],
            "actual": [0.3, 0.1 + 0.2],
            "p10": [0.1 + 0.2, 0.3],
            "p50": [0.3, 0.3],
            "p90": [0.1 + 0.2, 0.3],
        }
    )
    table = group_coverage(forecasts, forecasts.iloc[:0])
    assert table["coverage_80"].tolist() == [1.0]


def _evaluate_young(
    folder: Path, days: tuple[int, int], models: tuple[str, ...], step_days: int
) -> tuple[EvaluationResult, pd.Timestamp]:
    """evaluate-forecast of a young data set (``folder``) over its days ``days`` (from, to,
    counted from its first day), 3 days ahead, refitted at every origin; and its first day."""
    from rainmaker.dataset import load_dataset

    dataset = load_dataset(folder)
    first = dataset.first_date
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        result = evaluate_forecast(
            dataset,
            first + pd.Timedelta(days=days[0]),
            first + pd.Timedelta(days=days[1]),
            horizon=3,
            models=models,
            step_days=step_days,
            refit_every_days=1,
            forecaster_params={"n_paths": 20},
        )
    return result, first


def test_a_model_the_fit_could_not_fit_is_left_out_at_its_origins(make_dataset, tmp_path) -> None:
    """LightGBM needs 8 days: at the origins before that the evaluation scores the others
    and says which model it left out where (it used to stop with exit 2), and scores it at
    the origins after, where the refit could fit it."""
    result, _ = _evaluate_young(
        make_dataset(tmp_path / "young", n_products=2, n_days=30),
        (3, 29),
        ("seasonal_naive", "lightgbm"),
        step_days=4,
    )
    scored = result.forecasts.groupby("model")["origin"].unique()
    assert len(scored["auto"]) == len(scored["seasonal_naive"]) == len(result.origins)
    young = sorted(set(result.origins) - set(scored["lightgbm"]))
    # the first origins (3 and 7 days of history) are too young for it, the later ones are not
    assert young == list(result.origins[: len(young)]) and 1 <= len(young) < len(result.origins)
    short, note = result.notes  # the first origins' intervals collapse too (3 and 7 days)
    assert short.startswith(f"2 of {len(result.origins)} origins have too little history")
    assert note.startswith(f"lightgbm was not scored at {len(young)} of {len(result.origins)}")
    assert "need 8 days" in note


def test_origins_too_early_for_intervals_are_named(make_dataset, tmp_path) -> None:
    """An evaluation from the data set's second day scored collapsed intervals (p10 = p90 =
    the point forecast, too little history) as coverage 0 % without a word, where forecast
    warns of them; the origins are now named in a note."""
    result, first = _evaluate_young(
        make_dataset(tmp_path / "short", n_products=2, n_days=40),
        (1, 30),
        ("seasonal_naive",),
        step_days=3,
    )
    # fewer than 7 + 3 days of history: the origins of days 1, 4 and 7 (ten days from day 9)
    (note,) = result.notes
    days = ", ".join(f"{first + pd.Timedelta(days=d):%Y-%m-%d}" for d in (1, 4, 7))
    assert note.startswith(f"3 of {len(result.origins)} origins have too little history for ")
    assert f"({days}): the intervals cannot be estimated and collapse" in note
    assert "coverage_80 counts their outcomes as outside" in note
    width = result.forecasts["p90"] - result.forecasts["p10"]
    early = result.forecasts["origin"] <= first + pd.Timedelta(days=7)
    assert (width[early] == 0).all() and (width[~early] > 0).any()


def test_origins_on_which_no_product_has_flows_are_left_out(make_dataset, tmp_path) -> None:
    """P001 closes and P002 launches five days later: an evaluation over the switch stopped
    with exit 2 at the first origin in the gap ('no product has flows on the as-of day');
    those origins are left out with a note, the others are scored."""
    from rainmaker.dataset import load_dataset

    dataset = load_dataset(make_dataset(tmp_path / "switch", n_products=2, n_days=60))
    first = dataset.first_date
    flows = dataset.flows
    day = (flows["date"] - first).dt.days
    kept = ((flows["product_id"] == "P001") & (day <= 25)) | (
        (flows["product_id"] == "P002") & (day >= 31)
    )
    switch = dataclasses.replace(dataset, flows=flows.loc[kept].reset_index(drop=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastFallbackWarning)
        result = evaluate_forecast(
            switch,
            first + pd.Timedelta(days=20),
            first + pd.Timedelta(days=45),
            horizon=3,
            models=("seasonal_naive",),
            step_days=2,
            forecaster_params={"n_paths": 20},
        )
    gap = [first + pd.Timedelta(days=d) for d in (26, 28, 30)]
    assert not set(gap) & set(result.origins)
    assert set(result.forecasts["origin"]) == set(result.origins)
    assert len(result.origins) == 12 - len(gap)
    note, short = result.notes
    assert note.startswith(
        f"3 of 12 origins left out: no product has flows on them ({gap[0]:%Y-%m-%d}"
    )
    # refitted after the gap on P002's few days: its intervals collapse, and the note says so
    assert short.startswith("6 of 9 origins have too little history for intervals")
