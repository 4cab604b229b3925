"""Rolling-origin evaluation of the whole forecast, as a user would have received it.

From every origin (weekly by default) between ``start`` and ``end``, a :class:`Forecaster`
fitted on rows dated up to its last refit day (every ``refit_every_days``; never after the
origin) forecasts the next ``horizon`` days, for the automatic choice (``auto``) and for each
model alone, with calibrated quantiles. Forecasts are then scored against what happened:

- ``subscriptions`` against ``demand`` where the data set has it (synthetic data), otherwise
  against subscriptions on days the quota did not bind (a capped day is only a lower bound);
  ``demand`` is read here and nowhere else in the forecast;
- ``redemptions`` as observed; ``net_flow`` as demand (or uncensored subscriptions) minus
  redemptions;
- ``aum`` as observed plus the demand that quotas turned away since the origin, i.e. the AUM
  the forecast describes (all demand accepted).

Measures per model, variable and horizon: WAPE and MASE of the median (p50), pinball loss
averaged over the quantile levels and scaled by the mean outcome, and the share of outcomes
inside [p10, p90]. :func:`log_to_mlflow` records them with the last fitted forecaster as the
model artefact.

Coverage is also measured per product, per issuer and for the total of all products
(:attr:`EvaluationResult.groups`, :func:`group_coverage`): the quantiles of an issuer's or the
total's flows come from the sums of the sample paths over its products (the paths replay one
backtest origin for every product, so the quantiles of the sums are coherent with the products'
own), and are scored against the sums of the outcomes on days every product of the group has
one.
"""

from __future__ import annotations

import pickle
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast.api import (
    COLLAPSED_INTERVALS,
    DEFAULT_MODELS,
    DEFAULT_QUANTILES,
    Forecaster,
    check_horizon,
)
from forecast.metrics import coverage, inside, scaled_pinball_loss, wape
from forecast.panel import OUTPUT_VARIABLES
from rainmaker.dataset import Dataset, parse_day
from rainmaker.errors import UsageError, first_few
from rainmaker.outcomes import observed_outcomes
from rainmaker.progress import Progress, stage_steps
from rainmaker.quantiles import quantile_label
from rainmaker.safety import write_spreadsheet_csv
from rainmaker.tracking import bounded_http_waits, experiment_in

__all__ = [
    "AUTO",
    "METRICS_KEYS",
    "EvaluationResult",
    "evaluate_forecast",
    "group_coverage",
    "log_to_mlflow",
    "outcomes",
    "score",
]

# The columns the metrics table (``evaluate-forecast --out``) starts with: how an earlier one is
# recognised.
METRICS_KEYS = ("model", "variable", "horizon")

AUTO = "auto"
MASE_WINDOW_DAYS = 364
# the progress stage of evaluate_forecast (rainmaker.progress): one step per origin
EVALUATION_STAGE = "evaluate-forecast: origins"


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """What :func:`evaluate_forecast` measured.

    Attributes:
        metrics: per ``model, variable, horizon`` (1..N): ``wape``, ``mase``, ``pinball``
            (scaled), ``coverage_80`` (share inside [p10, p90]), ``n`` outcomes scored.
        summary: the same over all horizons (``horizon`` = 0 means "all").
        forecasts: every scored forecast: ``model, origin, product_id, date, horizon,
            variable, actual, mean, pNN..., mase_scale``.
        origins: the origin days scored (those on which some product has flows).
        settings: the evaluation's parameters.
        seconds: wall time spent fitting and predicting.
        forecaster: the last fitted forecaster (the model artefact).
        groups: forecasts of sums over products, one row per ``model, origin, level, group,
            variable, date, horizon``: ``level`` is ``issuer`` (``group`` the issuer) or
            ``total`` (``group`` ``total``); ``actual``, ``p10``, ``p50``, ``p90`` in CNY.
        notes: the origins left out because no product has flows on them (one closed, its
            successor not launched yet), then the models left out at some origins because the
            fit before them could not fit them (too little history, every day capped), one
            line per model with how many origins and the fit's reason; ``auto`` is scored at
            every origin scored regardless.
    """

    metrics: pd.DataFrame
    summary: pd.DataFrame
    forecasts: pd.DataFrame
    origins: tuple[pd.Timestamp, ...]
    settings: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)
    forecaster: Forecaster | None = None
    groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        span = (
            f"{self.origins[0]:%Y-%m-%d} to {self.origins[-1]:%Y-%m-%d}" if self.origins else "none"
        )
        models = sorted(self.metrics["model"].unique()) if "model" in self.metrics else []
        return (
            f"EvaluationResult({len(self.origins)} origins {span}, models {', '.join(models)}, "
            f"{len(self.forecasts):,} forecasts scored; see .summary, .table())"
        )

    def coverage(self) -> pd.DataFrame:
        """p10-p90 coverage per product, per issuer and for the total (:func:`group_coverage`)."""
        return group_coverage(self.forecasts, self.groups)

    def coverage_summary(self, model: str | None = None) -> str:
        """A printable summary of :meth:`coverage` for ``model`` (default ``auto``, else the
        only model evaluated): per variable, the total's coverage and the range over issuers
        and over products."""
        table = self.coverage()
        if model is None:
            models = list(dict.fromkeys(table["model"]))
            model = AUTO if AUTO in models else (models[0] if models else AUTO)
        table = table[table["model"] == model]
        if table.empty:
            return ""
        rows = []
        for variable, group in table.groupby("variable", sort=False):
            row: dict[str, Any] = {"variable": variable}
            for level in ("total", "issuer", "product"):
                part = group[group["level"] == level]
                if part.empty:
                    row[level] = "-"
                elif level == "total":
                    row[level] = f"{part['coverage_80'].iloc[0]:.1%}"
                else:
                    low, high = part["coverage_80"].min(), part["coverage_80"].max()
                    row[level] = f"{low:.1%}-{high:.1%} ({len(part)})"
            rows.append(row)
        frame = pd.DataFrame(rows).rename(
            columns={"issuer": "issuers (min-max)", "product": "products (min-max)"}
        )
        return frame.to_string(index=False)

    def table(self, horizons: Sequence[int] | None = None) -> str:
        """A printable table of the summary and of chosen horizons (default 1, 7 and N),
        followed by ``auto``'s coverage per product, per issuer and for the total
        (:meth:`coverage_summary`)."""
        n = int(self.metrics["horizon"].max()) if len(self.metrics) else 0
        chosen = sorted({h for h in (horizons or (1, 7, n)) if 1 <= h <= n})
        rows = pd.concat(
            [self.metrics[self.metrics["horizon"].isin(chosen)], self.summary], ignore_index=True
        )
        rows["horizon"] = rows["horizon"].map(lambda h: "1-" + str(n) if h == 0 else str(h))
        rows = rows.sort_values(["variable", "model", "horizon"], kind="stable")
        columns = ["variable", "model", "horizon", "wape", "mase", "pinball", "coverage_80", "n"]
        shown = rows.loc[:, columns]
        coverage = self.coverage_summary() if len(self.groups) else ""
        if coverage:
            coverage = (
                "\n\np10-p90 coverage per product, per issuer and for the total "
                "(quantiles of sums from the sample paths):\n" + coverage
            )
        return (
            shown.to_string(
                index=False,
                formatters={
                    "wape": "{:.3f}".format,
                    "mase": "{:.3f}".format,
                    "pinball": "{:.4f}".format,
                    "coverage_80": "{:.1%}".format,
                },
            )
            + coverage
        )


def outcomes(dataset: Dataset) -> dict[str, pd.DataFrame]:
    """What happened, per variable as a frame (index date, columns product_id), CNY
    (:func:`rainmaker.outcomes.observed_outcomes`, the one definition the run history shares).
    """
    return observed_outcomes(dataset.flows)


def _mase_scales(frame: pd.DataFrame, origin: pd.Timestamp) -> pd.Series:
    """Per product: mean |y(t) − y(t−7)| over the year up to the origin (CNY)."""
    window = frame.loc[origin - pd.Timedelta(days=MASE_WINDOW_DAYS - 1) : origin]
    return (window - window.shift(7)).abs().mean()


def _truth_at(
    truth: dict[str, pd.DataFrame], origin: pd.Timestamp, horizon: int
) -> tuple[dict[str, pd.Series], dict[str, pd.Series]]:
    """Outcomes of the horizon after ``origin`` (by (date, product_id)) and MASE scales (by
    product_id), per variable."""
    window = slice(origin + pd.Timedelta(days=1), origin + pd.Timedelta(days=horizon))
    actual, scales = {}, {}
    for variable in OUTPUT_VARIABLES:
        frame = truth[variable].loc[window]
        if variable == "aum":
            away = truth["_turned_away"].loc[window].cumsum()
            frame = frame + away.reindex_like(frame).fillna(0.0)
        actual[variable] = frame.stack()
        scales[variable] = _mase_scales(truth[variable], origin)
    return actual, scales


def _forecast_rows(
    result_table: pd.DataFrame,
    actual: dict[str, pd.Series],
    scales: dict[str, pd.Series],
    origin: pd.Timestamp,
    model: str,
) -> pd.DataFrame:
    table = result_table.copy()
    table["model"] = model
    table["origin"] = origin
    table["horizon"] = (table["date"] - origin).dt.days
    values = np.full(len(table), np.nan)
    scale = np.full(len(table), np.nan)
    for variable in OUTPUT_VARIABLES:
        rows = (table["variable"] == variable).to_numpy()
        keys = pd.MultiIndex.from_arrays([table.loc[rows, "date"], table.loc[rows, "product_id"]])
        values[rows] = actual[variable].reindex(keys).to_numpy()
        scale[rows] = scales[variable].reindex(table.loc[rows, "product_id"]).to_numpy()
    table["actual"] = values
    table["mase_scale"] = scale
    return table


def score(forecasts: pd.DataFrame, quantiles: Sequence[float]) -> pd.DataFrame:
    """Measures per ``model, variable, horizon`` of scored forecasts (see module docstring).

    Args:
        forecasts: rows with ``model, variable, horizon, actual, mase_scale`` and the ``pNN``
            columns of ``quantiles`` (``p10``, ``p50`` and ``p90`` at least).
        quantiles: the quantile levels of the ``pNN`` columns.

    Returns:
        Frame ``model, variable, horizon, wape, mase, pinball, coverage_80, n``.
    """
    for needed in (0.1, 0.5, 0.9):
        if quantile_label(needed) not in forecasts.columns:
            raise UsageError(f"scoring needs the {quantile_label(needed)} quantile")
    rows = []
    for (model, variable, horizon), group in forecasts.groupby(
        ["model", "variable", "horizon"], sort=False
    ):
        known = group.loc[group["actual"].notna()]
        actual = known["actual"].to_numpy()
        median = known["p50"].to_numpy()
        scale = known["mase_scale"].to_numpy()
        ok = scale > 0
        rows.append(
            {
                "model": model,
                "variable": variable,
                "horizon": int(horizon),
                "wape": wape(actual, median),
                "mase": float(np.mean(np.abs(actual - median)[ok] / scale[ok]))
                if ok.any()
                else float("nan"),
                "pinball": scaled_pinball_loss(
                    actual, {q: known[quantile_label(q)].to_numpy() for q in quantiles}
                ),
                "coverage_80": coverage(actual, known["p10"].to_numpy(), known["p90"].to_numpy()),
                "n": len(known),
            }
        )
    return pd.DataFrame(rows)


def _group_rows(
    result: Any,
    issuers: pd.Series,
    actual: dict[str, pd.Series],
    origin: pd.Timestamp,
    model: str,
) -> pd.DataFrame:
    """Forecasts of sums over each issuer's products and over all products, from the sample
    paths of ``result`` (a :class:`forecast.api.ForecastResult`), with the sums of the outcomes
    on days every product of the group has one (NaN otherwise)."""
    product_ids = list(result.product_ids)
    owner = issuers.reindex(product_ids).fillna("").astype(str).to_numpy()
    groups = [("issuer", name, owner == name) for name in sorted(set(owner))]
    groups.append(("total", "total", np.ones(len(product_ids), dtype=bool)))
    dates = result.dates
    frames = []
    for variable in OUTPUT_VARIABLES:
        paths = result.paths[variable]  # (n_products, n_paths, horizon)
        truth = (
            actual[variable]
            .reindex(pd.MultiIndex.from_product([dates, product_ids]))
            .to_numpy()
            .reshape(len(dates), len(product_ids))
        )
        for level, name, members in groups:
            summed = paths[members].sum(axis=0)  # (n_paths, horizon)
            p10, p50, p90 = np.quantile(summed, [0.1, 0.5, 0.9], axis=0)
            outcome = truth[:, members]
            total = np.where(np.isnan(outcome).any(axis=1), np.nan, outcome.sum(axis=1))
            frames.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "origin": origin,
                        "level": level,
                        "group": name,
                        "variable": variable,
                        "date": dates,
                        "horizon": np.arange(1, len(dates) + 1),
                        "actual": total,
                        "p10": p10,
                        "p50": p50,
                        "p90": p90,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def group_coverage(forecasts: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """p10-p90 coverage and p50 WAPE per product, per issuer and for the total.

    Args:
        forecasts: :attr:`EvaluationResult.forecasts` (one row per product and day).
        groups: :attr:`EvaluationResult.groups` (sums over issuers and over all products).

    Returns:
        Frame ``model, variable, level, group, coverage_80, wape, n``: ``level`` is
        ``product``, ``issuer`` or ``total``; over every origin and horizon with an outcome.
    """
    parts = [forecasts.assign(level="product", group=forecasts["product_id"])]
    if len(groups):
        parts.append(groups)
    rows = pd.concat(
        [p[["model", "variable", "level", "group", "actual", "p10", "p50", "p90"]] for p in parts],
        ignore_index=True,
    )
    rows = rows[rows["actual"].notna()]
    within = inside(rows["actual"], rows["p10"], rows["p90"])
    error = (rows["actual"] - rows["p50"]).abs()
    keys = ["model", "variable", "level", "group"]
    grouped = rows.assign(inside=within, error=error, size=rows["actual"].abs()).groupby(
        keys, sort=False
    )
    out = grouped.agg(
        coverage_80=("inside", "mean"),
        error=("error", "sum"),
        size=("size", "sum"),
        n=("inside", "size"),
    ).reset_index()
    out["wape"] = out["error"] / out["size"].where(out["size"] > 0)
    order = {"total": 0, "issuer": 1, "product": 2}
    out = out.sort_values(
        ["model", "variable", "level", "group"],
        key=lambda c: c.map(order) if c.name == "level" else c,
        kind="stable",
        ignore_index=True,
    )
    return out[[*keys, "coverage_80", "wape", "n"]]


def check_evaluation(horizon: int, step_days: int, refit_every_days: int) -> None:
    """Refuse evaluation settings that cannot work, before any data is read.

    Args:
        horizon: days forecast from each origin (1 to ``MAX_HORIZON_DAYS``).
        step_days: days between origins (at least 1).
        refit_every_days: days between full refits (at least 1).

    Raises:
        UsageError: a value out of range (exit status 2), naming it and its command-line flag.
    """
    check_horizon(horizon, "the horizon (--horizon)")
    for what, days in (
        ("the step between origins (--step)", step_days),
        ("the days between refits (--refit-every)", refit_every_days),
    ):
        if days < 1:
            raise UsageError(f"{what} must be at least 1 day, got {days}")


def evaluate_forecast(
    dataset: Dataset,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    horizon: int = 14,
    models: Sequence[str] = DEFAULT_MODELS,
    *,
    step_days: int = 7,
    refit_every_days: int = 28,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    seed: int = 0,
    forecaster_params: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> EvaluationResult:
    """Rolling-origin evaluation of ``auto`` and every model in ``models``.

    Args:
        dataset: the full data set (rows after each origin are used only to score).
        start: first origin day.
        end: last day scored; origins run up to ``end − horizon``.
        horizon: days forecast from each origin.
        models: models to compare (and to select among for ``auto``).
        step_days: days between origins.
        refit_every_days: days between full refits (backtest, selection, calibration, fit).
        quantiles: quantile levels (must include 0.1, 0.5 and 0.9).
        seed: random seed.
        forecaster_params: more :class:`Forecaster` arguments (e.g. ``backtest_days``).
        progress: told of each origin evaluated, stage :data:`EVALUATION_STAGE`
            (:mod:`rainmaker.progress`; ``rainmaker evaluate-forecast`` renders it).

    Returns:
        The :class:`EvaluationResult`.

    Raises:
        UsageError: dates out of range, no origin in the window or none with flows, bad
            horizon or models.
    """
    start_day, end_day = parse_day(start, "start"), parse_day(end, "end")
    check_evaluation(horizon, step_days, refit_every_days)
    if end_day > dataset.last_date:
        raise UsageError(
            f"end {end_day:%Y-%m-%d} is after the last flows day {dataset.last_date:%Y-%m-%d}"
        )
    if start_day <= dataset.first_date:
        raise UsageError(
            f"start {start_day:%Y-%m-%d} must be after the first flows day "
            f"{dataset.first_date:%Y-%m-%d} (a forecast needs history)"
        )
    last_origin = end_day - pd.Timedelta(days=horizon)
    origins = pd.date_range(start_day, last_origin, freq=f"{step_days}D")
    if len(origins) == 0:
        raise UsageError(
            f"no origin between {start_day:%Y-%m-%d} and {last_origin:%Y-%m-%d} "
            f"(end − horizon); expected start ≤ end − {horizon} days"
        )
    for q in (0.1, 0.5, 0.9):
        if q not in quantiles:
            quantiles = (*quantiles, q)
    quantiles = tuple(sorted(set(quantiles)))
    names = [AUTO, *models] if len(models) > 1 else list(models)
    truth = outcomes(dataset)
    params = dict(forecaster_params or {})
    frames = []
    group_frames = []
    issuers = dataset.products.set_index("product_id")["issuer"]
    forecaster: Forecaster | None = None
    fitted_on: pd.Timestamp | None = None
    seconds = {"fit": 0.0, "predict": 0.0}
    steps = stage_steps(progress, EVALUATION_STAGE, len(origins))
    left_out: dict[str, list[str]] = {}
    flows_days = set(dataset.flows["date"])
    idle: list[pd.Timestamp] = []
    collapsed: list[pd.Timestamp] = []  # origins whose intervals collapsed onto the point
    for origin in origins:
        if origin not in flows_days:
            # no product has flows that day (one closed, its successor not launched yet):
            # nothing to forecast from there; the next origin is fitted afresh
            idle.append(origin)
            fitted_on = None
            steps.tick()
            continue
        if fitted_on is None or (origin - fitted_on).days >= refit_every_days:
            started = time.perf_counter()
            forecaster = Forecaster(
                models=models, horizon=horizon, quantiles=quantiles, seed=seed, **params
            ).fit(dataset, origin)
            seconds["fit"] += time.perf_counter() - started
            fitted_on = origin
        assert forecaster is not None
        started = time.perf_counter()
        actual, scales = _truth_at(truth, origin, horizon)
        for name in names:
            reason = None if name == AUTO else forecaster.unfitted_reason(name)
            if reason is not None:
                # a model the fit could not fit is left out here, not the whole evaluation:
                # the others (and auto, which falls back) are still scored at this origin
                left_out.setdefault(name, []).append(reason)
                continue
            result = forecaster.predict(
                dataset, origin, horizon, model=None if name == AUTO else name
            )
            frames.append(_forecast_rows(result.table, actual, scales, origin, name))
            group_frames.append(_group_rows(result, issuers, actual, origin, name))
            if origin not in collapsed and any(COLLAPSED_INTERVALS in w for w in result.warnings):
                collapsed.append(origin)
        seconds["predict"] += time.perf_counter() - started
        steps.tick()
    if len(idle) == len(origins):
        raise UsageError(
            f"no product has flows on any origin from {start_day:%Y-%m-%d} to "
            f"{last_origin:%Y-%m-%d}; expected a window with flows"
        )
    scored = tuple(o for o in origins if o not in set(idle))
    notes = (
        [
            f"{len(idle)} of {len(origins)} origins left out: no product has flows on them "
            f"({first_few([f'{o:%Y-%m-%d}' for o in idle])})"
        ]
        if idle
        else []
    )
    if collapsed:
        shown = first_few([f"{o:%Y-%m-%d}" for o in collapsed])
        notes.append(
            f"{len(collapsed)} of {len(scored)} origins have too little history for intervals "
            f"({shown}): {COLLAPSED_INTERVALS}, so "
            "coverage_80 counts their outcomes as outside and says nothing of the intervals; "
            "expected more history before the origins (a later --start)"
        )
    forecasts = pd.concat(frames, ignore_index=True)
    metrics = score(forecasts, quantiles)
    overall = score(forecasts.assign(horizon=0), quantiles)
    return EvaluationResult(
        metrics=metrics,
        summary=overall,
        forecasts=forecasts,
        origins=scored,
        settings={
            "start": f"{start_day:%Y-%m-%d}",
            "end": f"{end_day:%Y-%m-%d}",
            "horizon": horizon,
            "models": ",".join(models),
            "step_days": step_days,
            "refit_every_days": refit_every_days,
            "quantiles": ",".join(f"{q:g}" for q in quantiles),
            "seed": seed,
            "n_origins": len(scored),
            **{k: v for k, v in params.items() if isinstance(v, int | float | str)},
        },
        seconds=seconds,
        forecaster=forecaster,
        groups=pd.concat(group_frames, ignore_index=True),
        notes=(
            *notes,
            *(
                f"{name} was not scored at {len(reasons)} of {len(scored)} origins: {reasons[0]}"
                for name, reasons in left_out.items()
            ),
        ),
    )


def _metric_key(*parts: object) -> str:
    # MLflow metric names allow letters, digits, "_", "-", ".", " " and "/".
    return ".".join(str(p).replace("+", "_plus_") for p in parts)


def log_to_mlflow(
    evaluation: EvaluationResult,
    tracking_uri: str = "sqlite:///mlflow.db",
    experiment: str = "rainmaker-forecast",
    data_fingerprint: str = "",
) -> str:
    """Record an evaluation in MLflow: parameters, metrics (per horizon as steps, and over all
    horizons), the metrics table and the last fitted forecaster as artefacts.

    Returns:
        The MLflow run id.
    """
    with bounded_http_waits():  # a tracking server that is down fails in seconds, not minutes
        return _log_evaluation(evaluation, tracking_uri, experiment, data_fingerprint)


def _log_evaluation(
    evaluation: EvaluationResult, tracking_uri: str, experiment: str, data_fingerprint: str
) -> str:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    experiment_id = experiment_in(mlflow.MlflowClient(tracking_uri), experiment, tracking_uri)
    with mlflow.start_run(experiment_id=experiment_id, run_name="evaluate-forecast") as run:
        mlflow.log_params({**evaluation.settings, "data_fingerprint": data_fingerprint[:16]})
        for row in evaluation.summary.itertuples(index=False):
            for measure in ("wape", "mase", "pinball", "coverage_80"):
                value = getattr(row, measure)
                if np.isfinite(value):
                    mlflow.log_metric(_metric_key(row.model, row.variable, measure), value)
        for row in evaluation.metrics.itertuples(index=False):
            for measure in ("wape", "coverage_80"):
                value = getattr(row, measure)
                if np.isfinite(value):
                    mlflow.log_metric(
                        _metric_key(row.model, row.variable, measure, "by_horizon"),
                        value,
                        step=int(row.horizon),
                    )
        coverage = evaluation.coverage()
        for row in coverage[coverage["level"] == "total"].itertuples(index=False):
            if np.isfinite(row.coverage_80):
                mlflow.log_metric(
                    _metric_key(row.model, row.variable, "total", "coverage_80"), row.coverage_80
                )
        mlflow.log_metrics({f"seconds.{k}": v for k, v in evaluation.seconds.items()})
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder)
            # artifacts are opened in spreadsheets: the groups are issuers' and products' names
            write_spreadsheet_csv(evaluation.metrics, out / "metrics_by_horizon.csv")
            write_spreadsheet_csv(evaluation.summary, out / "metrics_summary.csv")
            mlflow.log_artifact(str(out / "metrics_by_horizon.csv"))
            mlflow.log_artifact(str(out / "metrics_summary.csv"))
            write_spreadsheet_csv(coverage, out / "coverage_by_group.csv")
            mlflow.log_artifact(str(out / "coverage_by_group.csv"))
            if evaluation.forecaster is not None:
                with open(out / "forecaster.pkl", "wb") as handle:
                    pickle.dump(evaluation.forecaster, handle, protocol=pickle.HIGHEST_PROTOCOL)
                mlflow.log_artifact(str(out / "forecaster.pkl"), artifact_path="model")
        return str(run.info.run_id)
