"""The global model: one LightGBM booster per flow across every product and every horizon.

Training rows are (product, target day, horizon) triples whose features are read at the origin
``target − horizon`` (see :mod:`forecast.features`), so one booster forecasts any day of the
horizon without recursion and without leaking what happened between origin and target. The
target is ``log1p(flow / scale)``, with ``scale`` the product's trailing 28-day mean at the
origin: small and large products share one model, and a new product with a week or two of
history gets a forecast from what the others taught it.

Censored demand: a subscription day where the quota was reached is never trained on as if it
were demand. By default (``censoring="impute"``) a first booster is fitted without those days,
and each capped day then enters the final fit with its expected demand given that demand was at
least the cap (the mean of a normal tail beyond the bound on the log scale: a one-step Tobit
correction); with ``censoring="drop"`` capped days are simply left out of the loss. Lags read
the lower-bound-aware filled series.

Training is deterministic: a fixed seed, ``deterministic=True``, ``force_row_wise`` and at most
``n_jobs`` threads. Small problems run on one thread: on a shared two-core machine OpenMP's
second thread mostly waits for a core, and a 30,000-row fit ran ten times slower on two threads
than on one when the other core was busy.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import lightgbm as lgb
import numpy as np
from scipy.stats import norm

from forecast.base import ForecastModel
from forecast.features import (
    MIN_ORIGIN_HISTORY_DAYS,
    design_grid,
    design_matrix,
    feature_context,
    feature_names,
    training_pairs,
)
from forecast.panel import MODELLED_VARIABLES, Panel

__all__ = ["GlobalLightGBM"]

# Below this many rows one thread is faster than two on a busy machine.
SINGLE_THREAD_ROWS = 150_000
BIN_SAMPLE_ROWS = 10_000
# Rows of the first, uncensored-only booster of the Tobit correction.
IMPUTE_MAX_ROWS = 50_000
# Fewest uncapped training rows a flow's booster is fitted on: LightGBM's bagging of a single
# row keeps none and stops with "Check failed: (num_data) > (0)".
MIN_TRAIN_ROWS = 2


class GlobalLightGBM(ForecastModel):
    """Direct multi-horizon LightGBM on scaled log flows, shared by all products.

    Args:
        max_horizon: the longest horizon training rows are drawn for (days).
        n_estimators: boosting rounds.
        learning_rate: shrinkage per round.
        num_leaves: leaves per tree.
        min_data_in_leaf: minimum training rows per leaf.
        horizons_per_target: horizons drawn for each target day.
        max_train_rows: cap on training rows per flow (a uniform sample is kept beyond it).
        objective: LightGBM objective on the log scale (``l2``, ``huber`` or ``l1``).
        censoring: how capped subscription days enter training: ``drop`` leaves them out of
            the loss; ``impute`` (default) replaces their target by the expected demand given
            that it reached the cap (a one-step Tobit correction, see ``_impute_censored``).
        n_jobs: threads.
        seed: seed of the row sampling and of LightGBM.
    """

    name = "lightgbm"
    min_history_days = MIN_ORIGIN_HISTORY_DAYS

    def __init__(
        self,
        max_horizon: int = 14,
        n_estimators: int = 120,
        learning_rate: float = 0.1,
        num_leaves: int = 15,
        min_data_in_leaf: int = 40,
        horizons_per_target: int = 1,
        max_train_rows: int = 120_000,
        objective: str = "l2",
        censoring: str = "impute",
        n_jobs: int = 2,
        seed: int = 0,
    ) -> None:
        self.max_horizon = max_horizon
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_data_in_leaf = min_data_in_leaf
        self.horizons_per_target = horizons_per_target
        self.max_train_rows = max_train_rows
        self.objective = objective
        if censoring not in ("impute", "drop"):
            raise ValueError(f"censoring must be 'impute' or 'drop', got {censoring!r}")
        self.censoring = censoring
        self.n_jobs = n_jobs
        self.seed = seed

    def _threads(self, n_rows: int) -> int:
        return 1 if n_rows < SINGLE_THREAD_ROWS else max(1, min(self.n_jobs, 2))

    def _params(self, n_rows: int) -> dict[str, object]:
        return {
            "num_threads": self._threads(n_rows),
            "objective": self.objective,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "max_bin": 63,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }

    def _fit(self, history: Panel, end: int) -> None:
        context = feature_context(history, self.max_horizon)
        rng = np.random.default_rng(self.seed)
        self.boosters_: dict[str, lgb.Booster] = {}
        self.n_train_rows_: dict[str, int] = {}
        self.n_censored_rows_ = 0
        jobs: list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]] = []
        for variable in MODELLED_VARIABLES:
            impute = variable == "subscriptions" and self.censoring == "impute"
            product, origin, horizon = training_pairs(
                history,
                variable,
                last_target=end,
                max_horizon=self.max_horizon,
                horizons_per_target=self.horizons_per_target,
                max_rows=self.max_train_rows,
                rng=rng,
                include_censored=impute,
            )
            # Only subscriptions are capped; a quota says nothing about redemptions.
            censored = (
                history.censored[origin + horizon, product]
                if variable == "subscriptions"
                else np.zeros(len(product), dtype=bool)
            )
            uncapped = int((~censored).sum())
            if uncapped < MIN_TRAIN_ROWS:
                raise ValueError(
                    f"lightgbm: {'no' if uncapped == 0 else 'too few'} training rows for "
                    f"{variable} ({_no_rows_reason(history, variable, end, uncapped)})"
                )
            features, scale = design_matrix(
                context, variable, product, origin, horizon, actual_exposure=True
            )
            observed = history.series(variable)[origin + horizon, product]
            # A capped day's *observed* subscriptions: the lower bound of its demand.
            observed = np.where(
                censored, history.subscriptions[origin + horizon, product], observed
            )
            target = np.log1p(np.maximum(observed, 0.0) / scale)
            if impute and censored.any():
                self.n_censored_rows_ = int(censored.sum())
                jobs.append((variable, features, target, censored))
            else:
                jobs.append((variable, features, target, None))

        def train(job: tuple[str, np.ndarray, np.ndarray, np.ndarray | None]) -> lgb.Booster:
            _, features, target, censored = job
            if censored is not None:
                target = self._impute_censored(features, target, censored)
            return self._train(features, target)

        # The two flows' boosters do not depend on each other (the rows were drawn above, in
        # order): on one thread each they train side by side, with the same result as one
        # after the other.
        parallel = self.n_jobs >= 2 and all(self._threads(len(job[2])) == 1 for job in jobs)
        if parallel:
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                boosters = list(pool.map(train, jobs))
        else:
            boosters = [train(job) for job in jobs]
        for job, booster in zip(jobs, boosters, strict=True):
            self.boosters_[job[0]] = booster
            self.n_train_rows_[job[0]] = len(job[2])

    def _train(
        self, features: np.ndarray, target: np.ndarray, rounds: int | None = None
    ) -> lgb.Booster:
        data = lgb.Dataset(
            features,
            target,
            feature_name=list(feature_names()),
            # Bin edges from a sample of rows: 63 bins need far fewer than the default
            # 200,000, and finding them was a third of the training time of a small panel.
            params={"max_bin": 63, "bin_construct_sample_cnt": BIN_SAMPLE_ROWS, "verbose": -1},
            free_raw_data=True,
        )
        return lgb.train(
            self._params(len(target)), data, num_boost_round=rounds or self.n_estimators
        )

    def _impute_censored(
        self, features: np.ndarray, target: np.ndarray, censored: np.ndarray
    ) -> np.ndarray:
        """Targets of capped days replaced by their expected demand given the cap (Tobit).

        A booster fitted on the uncensored rows gives each capped row a mean ``μ`` and the
        spread ``σ`` of its residuals; with the observation as a lower bound ``L`` on the log
        scale, demand is expected at ``E[Y | Y ≥ L] = μ + σ·φ(z) / (1 − Φ(z))``,
        ``z = (L − μ) / σ`` (normal errors), which is never below the bound.
        """
        clean = np.flatnonzero(~censored)
        if len(clean) > IMPUTE_MAX_ROWS:
            # The first booster only locates the capped days' demand: a sample is enough.
            rng = np.random.default_rng(self.seed + 1)
            clean = np.sort(rng.choice(clean, size=IMPUTE_MAX_ROWS, replace=False))
        first = self._train(features[clean], target[clean], max(self.n_estimators // 2, 1))
        threads = self._threads(len(target))
        sigma = float(np.std(target[clean] - first.predict(features[clean], num_threads=threads)))
        sigma = max(sigma, 1e-6)
        mean = first.predict(features[censored], num_threads=threads)
        bound = target[censored]
        z = (bound - mean) / sigma
        tail = np.maximum(norm.sf(z), 1e-12)
        expected = mean + sigma * norm.pdf(z) / tail
        out = target.copy()
        out[censored] = np.maximum(expected, bound)
        return out

    def _predict_at(
        self, history: Panel, origins: np.ndarray, horizon: int
    ) -> dict[str, np.ndarray]:
        context = feature_context(history, horizon)
        n_origins, n = len(origins), history.n_products
        origin = np.repeat(origins, n)
        product = np.tile(np.arange(n), n_origins)
        alive = origin >= history.first_index[product]
        # Two flows side by side, one thread each, rather than one after the other on two
        # OpenMP threads: each flow's feature grid (numpy, mostly outside the GIL) is built
        # while the other flow's booster predicts, and no OpenMP barrier waits for a core
        # another job holds. A row's prediction does not depend on the threads.
        side_by_side = self.n_jobs >= 2 and len(MODELLED_VARIABLES) > 1
        threads = 1 if side_by_side else self._threads(int(alive.sum()) * horizon)

        def forecast(variable: str) -> np.ndarray:
            values = np.full((len(origin), horizon), np.nan)
            if alive.any():
                features, scale = design_grid(
                    context, variable, product[alive], origin[alive], horizon
                )
                predicted = self.boosters_[variable].predict(features, num_threads=threads)
                del features  # a backtest fold's grid is ~90 MB a flow at 1,000 products
                values[alive] = (scale * np.expm1(predicted)).reshape(-1, horizon)
            return values.reshape(n_origins, n, horizon)

        if side_by_side:
            with ThreadPoolExecutor(max_workers=len(MODELLED_VARIABLES)) as pool:
                forecasts = list(pool.map(forecast, MODELLED_VARIABLES))
        else:
            forecasts = [forecast(variable) for variable in MODELLED_VARIABLES]
        return dict(zip(MODELLED_VARIABLES, forecasts, strict=True))

    def feature_importance(self) -> dict[str, dict[str, float]]:
        """Gain importance of every feature, per flow (for reports and notebooks)."""
        self._check_fitted()
        names = feature_names()
        return {
            variable: dict(zip(names, booster.feature_importance("gain").tolist(), strict=True))
            for variable, booster in self.boosters_.items()
        }


def _no_rows_reason(history: Panel, variable: str, end: int, rows: int = 0) -> str:
    """Why :func:`~forecast.features.training_pairs` left fewer than :data:`MIN_TRAIN_ROWS`
    uncapped rows (``rows`` of them) to learn from up to ``end``.

    Every day with a week of history before it had its subscriptions capped by the quota (the
    capped days are censored demand: no uncapped day to learn from), or there are too few such
    days.
    """
    days = np.arange(end + 1)[:, None]
    old_enough = days > history.first_index[None, :] + MIN_ORIGIN_HISTORY_DAYS - 1
    known = old_enough & ~np.isnan(history.series(variable)[: end + 1])
    if variable == "subscriptions" and known.any() and history.censored[: end + 1][known].all():
        return (
            "every day's subscriptions equal the quota in force: no uncapped day to learn "
            "demand from"
        )
    if rows:
        return f"history too short: {rows} training row, need {MIN_TRAIN_ROWS}"
    return f"history too short: need {MIN_ORIGIN_HISTORY_DAYS + 1} days"
