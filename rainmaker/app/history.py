"""Run history in a database through SQLAlchemy: what each daily run forecast and planned.

Three tables (created on first use):

- ``runs``: one row per published run — as-of day, revision, output folder (relative to the
  output root, e.g. ``2022-06-15/r2``, so that a root can be moved), data fingerprints,
  settings, model, solver status and objective, versions, MLflow run id;
- ``forecasts``: the run's forecast rows (SPEC §3: product, date, variable, mean and quantiles);
- ``plans``: the run's plan rows (quota, expected flows, liquidity buffer, AUM, 7-day yield);
- ``run_events``: what happened to a run after it was recorded (``withdrawn`` by
  ``rainmaker rollback``, with the time and the reason). A table of its own, so that a database
  written by an earlier version gains it on first use without a migration.

A run is written in one transaction, so the database never holds half of a run. Any SQLAlchemy
URL works; the default is an SQLite file. What the recorded forecasts were worth once their days
came (``rainmaker history``, the report's drift alert) is in :mod:`rainmaker.app.accuracy`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rainmaker.contracts import PLAN_COLUMNS as SPEC_PLAN_COLUMNS
from rainmaker.errors import RainmakerError, UsageError
from rainmaker.safety import mask_secrets

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = [
    "FORECAST_QUANTILES",
    "PUBLISHED",
    "WITHDRAWN",
    "HistoryUnavailable",
    "RunHistory",
    "history_missing",
    "open_history",
]

# Quantile columns kept in the database (the forecast's defaults); others stay in forecast.csv.
FORECAST_QUANTILES = ("p05", "p10", "p50", "p90", "p95")
# The plan's SPEC §3 figures kept per product and day (product_id and date are the keys).
PLAN_COLUMNS = SPEC_PLAN_COLUMNS[2:]
# A recorded run's status: published, or withdrawn by ``rainmaker rollback``.
PUBLISHED = "published"
WITHDRAWN = "withdrawn"


class HistoryUnavailable(RainmakerError):
    """The history database cannot be opened, read or written (exit status 1)."""


@dataclass
class _Tables:
    metadata: Any
    runs: Any
    forecasts: Any
    plans: Any
    events: Any


def _tables() -> _Tables:
    from sqlalchemy import (
        Column,
        Date,
        DateTime,
        Float,
        ForeignKey,
        Index,
        Integer,
        MetaData,
        String,
        Table,
        Text,
        UniqueConstraint,
    )

    metadata = MetaData()
    runs = Table(
        "runs",
        metadata,
        Column("run_id", String(64), primary_key=True),
        Column("as_of", Date, nullable=False),
        Column("revision", Integer, nullable=False),
        Column("output_dir", Text, nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("data_fingerprint", String(64), nullable=False),
        Column("input_fingerprint", String(64), nullable=False),
        Column("settings_hash", String(64), nullable=False),
        Column("settings", Text, nullable=False),
        Column("horizon", Integer, nullable=False),
        Column("n_products", Integer, nullable=False),
        Column("model_name", String(100)),
        Column("solver_status", String(100)),
        Column("objective", Float),
        Column("rainmaker_version", String(50)),
        Column("mlflow_run_id", String(64)),
        Column("info", Text, nullable=False),
        UniqueConstraint("output_dir", name="uq_runs_output_dir"),
        Index("ix_runs_as_of", "as_of", "input_fingerprint", "settings_hash"),
    )
    forecasts = Table(
        "forecasts",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("run_id", String(64), ForeignKey("runs.run_id"), nullable=False),
        Column("product_id", String(100), nullable=False),
        Column("date", Date, nullable=False),
        Column("variable", String(20), nullable=False),
        Column("mean", Float),
        *(Column(q, Float) for q in FORECAST_QUANTILES),
        Index("ix_forecasts_run", "run_id"),
        Index("ix_forecasts_target", "product_id", "date", "variable"),
    )
    plans = Table(
        "plans",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("run_id", String(64), ForeignKey("runs.run_id"), nullable=False),
        Column("product_id", String(100), nullable=False),
        Column("date", Date, nullable=False),
        *(Column(c, Float) for c in PLAN_COLUMNS),
        Index("ix_plans_run", "run_id"),
    )
    events = Table(
        "run_events",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("run_id", String(64), ForeignKey("runs.run_id"), nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("event", String(20), nullable=False),
        Column("note", Text),
        Index("ix_run_events_run", "run_id"),
    )
    return _Tables(metadata, runs, forecasts, plans, events)


class RunHistory:
    """The run-history database. Create with :func:`open_history`.

    Attributes:
        url: the SQLAlchemy URL, password hidden.
    """

    def __init__(self, engine: Engine, url: str) -> None:
        self._engine = engine
        self._t = _tables()
        self.url = url

    def create(self) -> None:
        """Create missing tables (existing ones are left as they are)."""
        self._t.metadata.create_all(self._engine)

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __enter__(self) -> RunHistory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def record(self, run: Mapping[str, Any], forecast: pd.DataFrame, plan: pd.DataFrame) -> None:
        """Write one run, its forecast rows and its plan rows in a single transaction.

        Args:
            run: the run's metadata: ``run_id``, ``as_of``, ``revision``, ``output_dir``,
                ``data_fingerprint``, ``input_fingerprint``, ``settings`` (mapping),
                ``settings_hash``, ``horizon``, ``n_products``, ``model_name``,
                ``solver_status``, ``objective``, ``rainmaker_version``; every key is also kept
                as JSON in ``info``.
            forecast: SPEC §3 forecast rows (product_id, date, variable, mean, pNN).
            plan: plan rows (product_id, date and the plan.csv columns).

        Raises:
            HistoryUnavailable: the database refused the write; nothing of the run is kept.
        """
        from sqlalchemy.exc import SQLAlchemyError

        settings = run.get("settings", {})
        row = {
            "run_id": str(run["run_id"]),
            "as_of": pd.Timestamp(run["as_of"]).date(),
            "revision": int(run["revision"]),
            "output_dir": str(run["output_dir"]),
            "created_at": _as_datetime(run.get("created_at")),
            "data_fingerprint": str(run["data_fingerprint"]),
            "input_fingerprint": str(run["input_fingerprint"]),
            "settings_hash": str(run["settings_hash"]),
            "settings": json.dumps(settings, sort_keys=True),
            "horizon": int(run["horizon"]),
            "n_products": int(run["n_products"]),
            "model_name": run.get("model_name"),
            "solver_status": run.get("solver_status"),
            "objective": _float_or_none(run.get("objective")),
            "rainmaker_version": run.get("rainmaker_version"),
            "mlflow_run_id": run.get("mlflow_run_id"),
            "info": json.dumps(dict(run), sort_keys=True, default=str),
        }
        forecast_rows = _rows(
            forecast, ("product_id", "date", "variable", "mean", *FORECAST_QUANTILES)
        )
        plan_rows = _rows(plan, ("product_id", "date", *PLAN_COLUMNS))
        for r in forecast_rows + plan_rows:
            r["run_id"] = row["run_id"]
        try:
            with self._engine.begin() as conn:
                conn.execute(self._t.runs.insert(), [row])
                if forecast_rows:
                    conn.execute(self._t.forecasts.insert(), forecast_rows)
                if plan_rows:
                    conn.execute(self._t.plans.insert(), plan_rows)
        except SQLAlchemyError as exc:
            raise HistoryUnavailable(
                f"could not record run {row['run_id']} in the history database {self.url}: "
                f"{_short(exc)}"
            ) from exc

    def set_mlflow_run(self, run_id: str, mlflow_run_id: str) -> None:
        """Attach the MLflow run id to a recorded run."""
        with self._engine.begin() as conn:
            conn.execute(
                self._t.runs.update()
                .where(self._t.runs.c.run_id == run_id)
                .values(mlflow_run_id=mlflow_run_id)
            )

    def withdraw(self, run_id: str, reason: str = "") -> None:
        """Mark a recorded run withdrawn (``rainmaker rollback``); its rows stay.

        Raises:
            HistoryUnavailable: the database refused the write.
        """
        from sqlalchemy.exc import SQLAlchemyError

        row = {
            "run_id": str(run_id),
            "created_at": datetime.now(UTC).replace(tzinfo=None),
            "event": WITHDRAWN,
            "note": mask_secrets(reason) or None,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(self._t.events.insert(), [row])
        except SQLAlchemyError as exc:
            raise HistoryUnavailable(
                f"could not mark run {run_id} withdrawn in the history database {self.url}: "
                f"{_short(exc)}"
            ) from exc

    # ------------------------------------------------------------------ reading

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection to read with: a database that answers but cannot be read as a run
        history (a table or column missing, a value that is not a date) is
        :class:`HistoryUnavailable` (exit 1, naming the database), not an unexpected error."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self._engine.connect() as conn:
                yield conn
        except (SQLAlchemyError, ValueError) as exc:
            raise HistoryUnavailable(
                f"cannot read the history database {self.url}: {_short(exc)}"
            ) from exc

    def withdrawn(self) -> dict[str, dict[str, Any]]:
        """Withdrawn runs: run id -> ``{"at": UTC datetime, "reason": text or None}``."""
        from sqlalchemy import select

        e = self._t.events
        query = select(e.c.run_id, e.c.created_at, e.c.note).where(e.c.event == WITHDRAWN)
        with self._reading() as conn:
            rows = conn.execute(query.order_by(e.c.id)).all()
        return {str(r.run_id): {"at": r.created_at, "reason": r.note} for r in rows}

    def records(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Recorded runs, newest first, as JSON-able dicts for ``history --json`` and ``status``.

        Each has ``run_id``, ``as_of``, ``revision``, ``output_dir`` (relative to the output
        root), ``created_at`` (UTC, ISO 8601 with offset), ``status`` (``published`` or
        ``withdrawn``), ``withdrawn_at``, ``withdrawn_reason``, ``exit_code`` (the run's exit
        status when it was published; None for runs recorded by older versions), ``checks``
        (the operations checks that failed: stale data, late data, alerts), ``alerts`` (the
        report's: ``severity``, ``kind``, ``product_id``, ``text``), ``duration_s`` (seconds
        from the start of the run to its files being written), ``model_name``,
        ``solver_status`` and ``mlflow_run_id``.
        """
        from sqlalchemy import select

        t = self._t.runs
        query = select(t).order_by(t.c.created_at.desc(), t.c.as_of.desc(), t.c.revision.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._reading() as conn:
            rows = conn.execute(query).mappings().all()
        withdrawn = self.withdrawn()
        records = []
        for row in rows:
            try:
                info = json.loads(row["info"])
            except ValueError:
                info = {}
            if not isinstance(info, dict):  # JSON, but not the object a run records
                info = {}
            gone = withdrawn.get(str(row["run_id"]))
            timings = info.get("timings") or {}
            duration = timings.get("total_s")
            if duration is None and timings:
                duration = sum(float(v) for v in timings.values() if _float_or_none(v) is not None)
            records.append(
                {
                    "run_id": row["run_id"],
                    "as_of": f"{row['as_of']:%Y-%m-%d}",
                    "revision": int(row["revision"]),
                    "output_dir": row["output_dir"],
                    "created_at": _utc_iso(row["created_at"]),
                    "status": WITHDRAWN if gone else PUBLISHED,
                    "withdrawn_at": _utc_iso(gone["at"]) if gone else None,
                    "withdrawn_reason": gone["reason"] if gone else None,
                    "exit_code": info.get("exit_code"),
                    "checks": list(info.get("checks") or []),
                    "alerts": [
                        {k: a.get(k) for k in ("severity", "kind", "product_id", "text")}
                        for a in info.get("alerts") or []
                        if isinstance(a, Mapping)
                    ],
                    "duration_s": _float_or_none(duration),
                    "model_name": row["model_name"],
                    "solver_status": row["solver_status"],
                    "mlflow_run_id": row["mlflow_run_id"],
                }
            )
        return records

    def has_run(self, run_id: str) -> bool:
        """Whether the run ``run_id`` is recorded (wherever its folder is now)."""
        from sqlalchemy import func, select

        query = select(func.count()).where(self._t.runs.c.run_id == str(run_id))
        with self._reading() as conn:
            return bool(conn.execute(query).scalar_one())

    def runs(self, limit: int | None = None, as_of: Any = None) -> pd.DataFrame:
        """Recorded runs, newest first.

        Args:
            limit: at most this many rows (None: all).
            as_of: only runs of this as-of day (None: every day).

        Returns:
            One row per run with the ``runs`` columns except ``info``; ``as_of`` as datetime64.
        """
        from sqlalchemy import select

        t = self._t.runs
        query = select(*(c for c in t.c if c.name != "info")).order_by(
            t.c.created_at.desc(), t.c.as_of.desc(), t.c.revision.desc()
        )
        if as_of is not None:
            query = query.where(t.c.as_of == pd.Timestamp(as_of).date())
        if limit is not None:
            query = query.limit(limit)
        with self._reading() as conn:
            frame = pd.DataFrame(
                conn.execute(query).mappings().all(), columns=list(t.c.keys())[:-1]
            )
        frame["as_of"] = pd.to_datetime(frame["as_of"])
        return _floats(frame, ("objective",))

    def forecasts(self, since: Any = None, until: Any = None) -> pd.DataFrame:
        """Forecast rows of the latest revision not withdrawn of each as-of day, for target days
        in a window.

        Args:
            since: first target day kept (None: no bound).
            until: last target day kept (None: no bound).

        Returns:
            Rows with ``run_id``, ``as_of``, ``revision``, ``product_id``, ``date`` (target
            day), ``variable``, ``mean`` and the stored quantiles; dates as datetime64.
        """
        from sqlalchemy import func, select

        r, f = self._t.runs, self._t.forecasts
        # a day re-planned on changed data: the latest revision is the one managers acted on
        # a withdrawn revision (rainmaker rollback) was not acted on: the one before it counts
        events = self._t.events
        withdrawn = select(events.c.run_id).where(events.c.event == WITHDRAWN)
        latest = (
            select(r.c.as_of, func.max(r.c.created_at).label("created_at"))
            .where(r.c.run_id.not_in(withdrawn))
            .group_by(r.c.as_of)
            .subquery()
        )
        query = (
            select(
                r.c.run_id,
                r.c.as_of,
                r.c.revision,
                *(c for c in f.c if c.name not in ("id", "run_id")),
            )
            .join(f, f.c.run_id == r.c.run_id)
            .join(latest, (latest.c.as_of == r.c.as_of) & (latest.c.created_at == r.c.created_at))
        )
        if since is not None:
            query = query.where(f.c.date >= pd.Timestamp(since).date())
        if until is not None:
            query = query.where(f.c.date <= pd.Timestamp(until).date())
        columns = ["run_id", "as_of", "revision", "product_id", "date", "variable", "mean"]
        columns += list(FORECAST_QUANTILES)
        with self._reading() as conn:
            frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=columns)
        for column in ("as_of", "date"):
            frame[column] = pd.to_datetime(frame[column])
        return _floats(frame, ("mean", *FORECAST_QUANTILES))

    def plan_rows(self, run_id: str) -> pd.DataFrame:
        """The plan rows recorded for one run, ordered by product and date."""
        from sqlalchemy import select

        p = self._t.plans
        query = (
            select(*(c for c in p.c if c.name != "id"))
            .where(p.c.run_id == run_id)
            .order_by(p.c.product_id, p.c.date)
        )
        with self._reading() as conn:
            frame = pd.DataFrame(
                conn.execute(query).mappings().all(), columns=[c.name for c in p.c][1:]
            )
        frame["date"] = pd.to_datetime(frame["date"])
        return _floats(frame, PLAN_COLUMNS)

    def count(self, table: str) -> int:
        """Number of rows in ``runs``, ``forecasts`` or ``plans``."""
        from sqlalchemy import func, select

        with self._reading() as conn:
            return int(
                conn.execute(select(func.count()).select_from(getattr(self._t, table))).scalar_one()
            )


def history_missing(url: str) -> bool:
    """True when ``url`` names an ``sqlite:///`` file that does not exist yet: no run was ever
    recorded there, and a read-only command (``rainmaker status``) must not create it."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return False  # open_history says what is wrong with it
    file = parsed.database
    return (
        parsed.get_backend_name() == "sqlite"
        and file not in (None, "", ":memory:")
        and not Path(str(file)).exists()
    )


def open_history(url: str) -> RunHistory:
    """Connect to the run-history database and create its tables when missing.

    The folder of an ``sqlite:///`` file is created when missing.

    Args:
        url: an SQLAlchemy URL, e.g. ``sqlite:///runs/history.sqlite`` or
            ``postgresql+psycopg://user@host/db``.

    Raises:
        UsageError: the URL cannot be parsed or names a database driver that is not installed
            (exit status 2: a configuration problem).
        HistoryUnavailable: the database cannot be reached or written (exit status 1).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UsageError(
            f"history_url {mask_secrets(url)!r} is not an SQLAlchemy URL; expected e.g. "
            "sqlite:///runs/history.sqlite or postgresql+psycopg://user@host/db"
        ) from exc
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryUnavailable(
                f"cannot open the history database {shown}: cannot create folder {folder} ({exc})"
            ) from exc
    try:
        engine = create_engine(parsed)
    except (NoSuchModuleError, ImportError) as exc:
        raise UsageError(
            f"history_url {shown}: database driver not available ({_short(exc)}); use "
            "sqlite:/// or install the driver"
        ) from exc
    history = RunHistory(engine, shown)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        history.create()
    except SQLAlchemyError as exc:
        engine.dispose()
        raise HistoryUnavailable(
            f"cannot open the history database {shown}: {_short(exc)}"
        ) from exc
    return history


# ---------------------------------------------------------------------- helpers


def _rows(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, Any]]:
    present = [c for c in columns if c in frame.columns]
    part = frame[present].copy()
    part["date"] = pd.to_datetime(part["date"]).dt.date
    rows = part.to_dict("records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None  # NaN (e.g. an uncapped quota) is NULL in the database
            elif isinstance(value, np.generic):
                row[key] = value.item()
    return rows


def _floats(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    # a column of NULLs comes back as objects (None); amounts are always floats, NULL as NaN
    for column in columns:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def _float_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _as_datetime(value: Any) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(tzinfo=None)
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def _utc_iso(value: Any) -> str | None:
    """A naive UTC datetime from the database as ISO 8601 with its offset (``+00:00``)."""
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return str(stamp.isoformat(timespec="seconds"))


def _short(exc: BaseException) -> str:
    # SQLAlchemy messages carry the SQL and a link; the first line says what went wrong
    return mask_secrets(str(getattr(exc, "orig", None) or exc).splitlines()[0])
