"""MLflow tracking of plans, runs and experiments: parameters, metrics, figures and artefacts.

The default store is a local SQLite file (``sqlite:///mlflow.db``); artefacts go to an
``mlruns/`` folder beside it (MLflow would otherwise put them under the working directory).
Importing MLflow takes seconds, so it is imported only when something is logged. The client API
is used rather than ``mlflow.start_run`` so that nothing global (active run, tracking URI) leaks
into the caller, e.g. a test or a notebook.

Anyone can reuse :func:`log_run`: the backtest and the notebooks log the same way.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rainmaker.errors import RainmakerError, UsageError
from rainmaker.safety import mask_secrets

__all__ = [
    "HTTP_LIMITS",
    "TrackedRun",
    "TrackingError",
    "artifact_root",
    "bounded_http_waits",
    "check_tracking_uri",
    "log_run",
    "mlflow_key",
]

# MLflow caps parameter values at 6000 characters; longer ones are cut, not refused.
MAX_PARAM_CHARS = 6000
# MLflow's metric and parameter names (mlflow.utils.validation): word characters, ".", "-", " ",
# ":" (and "/", left out here: "a/../b" normalises to another name), at most 250 characters.
MAX_KEY_CHARS = 250
_NOT_IN_KEY = re.compile(r"[^\w.\- :]")
# The schemes MLflow opens through SQLAlchemy (``dialect[+driver]://``) whose driver is a
# separate package; SQLite's is Python's own.
DRIVER_SCHEMES = ("postgresql", "mysql", "mssql")
# MLflow retries a request to a tracking server 7 times with exponential back-off, 120 s each:
# against a server that is down, a run stalled for about 4 minutes (holding the daily job's
# lock) before it said so. Unless the environment sets them, a request is tried 3 times within
# about 10 s, then the run goes on without tracking and says why.
HTTP_LIMITS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}


class TrackingError(RainmakerError):
    """The MLflow store could not be written (exit status 1 where it is fatal)."""


@dataclass(frozen=True)
class TrackedRun:
    """Where a run was logged.

    Attributes:
        run_id: the MLflow run id.
        experiment_id: the MLflow experiment id.
        tracking_uri: the store.
    """

    run_id: str
    experiment_id: str
    tracking_uri: str


def check_tracking_uri(tracking_uri: str, what: str) -> None:
    """Refuse, before any work, a tracking URI MLflow could only misread.

    An empty URI (tracking off) is accepted; anything else needs a scheme (``sqlite:///...``,
    ``file:///...``, ``http://...``): a bare ``mlflow.db`` would be taken as a folder of runs.
    A database store (``postgresql://``, ``mysql+pymysql://``, ``mssql+pyodbc://``) needs its
    driver installed: without it MLflow fails only when the first run is logged, after the
    command's work (an evaluation of minutes), so it is looked for here, without connecting.

    Args:
        tracking_uri: the MLflow tracking URI.
        what: how the user named it (e.g. ``--tracking-uri``), for the message.

    Raises:
        UsageError: no scheme, or a database scheme whose dialect or driver is not installed
            (exit status 2); the message masks any password.
    """
    if tracking_uri and "://" not in tracking_uri:
        raise UsageError(
            f"{what} must be a URI such as sqlite:///mlflow.db or file:///path/mlruns, got "
            f"{mask_secrets(tracking_uri)!r}"
        )
    scheme = tracking_uri.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme in DRIVER_SCHEMES:
        _check_database_driver(tracking_uri, what)


def _check_database_driver(tracking_uri: str, what: str) -> None:
    """Load the SQLAlchemy dialect and driver of a database URI, or refuse it (UsageError)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(tracking_uri).get_dialect().import_dbapi()
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise UsageError(
            f"{what} {mask_secrets(tracking_uri)!r} cannot be opened here: "
            f"{mask_secrets(str(exc))}; install the database's driver in this environment "
            "(psycopg for postgresql://, pymysql for mysql+pymysql://) or use a store such "
            "as sqlite:///mlflow.db"
        ) from None


def artifact_root(tracking_uri: str) -> str | None:
    """Artefact location for a new experiment: ``mlruns/`` beside an SQLite store file.

    Args:
        tracking_uri: the MLflow tracking URI.

    Returns:
        A ``file://`` URI, or None to let MLflow choose (stores other than an SQLite file).
    """
    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix):
        return None
    database = tracking_uri[len(prefix) :]
    if database in ("", ":memory:"):
        return None
    return (Path(database).resolve().parent / "mlruns").as_uri()


@contextmanager
def bounded_http_waits() -> Iterator[None]:
    """Within the block, MLflow's requests to a tracking server wait as :data:`HTTP_LIMITS`
    says, for each limit the environment does not set; the environment is restored after."""
    added = [name for name in HTTP_LIMITS if name not in os.environ]
    for name in added:
        os.environ[name] = HTTP_LIMITS[name]
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def experiment_in(client: Any, experiment: str, tracking_uri: str) -> str:
    """The id of ``experiment`` in the store of ``client`` (an ``mlflow.MlflowClient``),
    created with its artefacts beside an SQLite store file (:func:`artifact_root`) when
    missing."""
    found = client.get_experiment_by_name(experiment)
    if found is not None:
        return str(found.experiment_id)
    return str(client.create_experiment(experiment, artifact_location=artifact_root(tracking_uri)))


def log_run(
    tracking_uri: str,
    experiment: str,
    *,
    run_name: str,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
    artifacts: Iterable[Path] = (),
    figures: Iterable[Path] = (),
) -> TrackedRun:
    """Log one finished run to MLflow in one go.

    Args:
        tracking_uri: the store, e.g. ``sqlite:///mlflow.db``.
        experiment: experiment name (created when missing).
        run_name: the run's display name (e.g. rainmaker's run id).
        params: parameters; values are turned into text with any URL password masked
            (:func:`rainmaker.safety.mask_secrets`).
        metrics: numeric results (units in the key names, e.g. ``objective``, ``solve_s``);
            NaN metrics are skipped. Keys of metrics and parameters MLflow would refuse are
            logged as :func:`mlflow_key` makes them.
        tags: free-form tags (masked as the parameters).
        artifacts: files logged at the artefact root (report, plan, forecast, ...).
        figures: image files logged under ``figures/``.

    Returns:
        The MLflow run's ids.

    Raises:
        TrackingError: the store cannot be opened or written.
    """
    params, metrics, tags = params or {}, metrics or {}, tags or {}
    with bounded_http_waits():
        return _log_run(
            tracking_uri, experiment, run_name, params, metrics, tags, artifacts, figures
        )


def _log_run(
    tracking_uri: str,
    experiment: str,
    run_name: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
    artifacts: Iterable[Path],
    figures: Iterable[Path],
) -> TrackedRun:
    try:
        from mlflow import MlflowClient
        from mlflow.entities import Metric, Param, RunTag

        _quiet_mlflow_logs()  # after the import: importing mlflow sets up its loggers

        client = MlflowClient(tracking_uri=tracking_uri)
        experiment_id = experiment_in(client, experiment, tracking_uri)
        run = client.create_run(experiment_id, run_name=run_name, tags=dict(tags))
        run_id = run.info.run_id
        stamp = run.info.start_time
        client.log_batch(
            run_id,
            metrics=[
                Metric(mlflow_key(key), float(value), stamp, 0)
                for key, value in metrics.items()
                if value is not None and math.isfinite(float(value))
            ],
            params=[
                Param(mlflow_key(key), mask_secrets(str(value))[:MAX_PARAM_CHARS])
                for key, value in params.items()
            ],
            tags=[RunTag(key, mask_secrets(str(value))) for key, value in tags.items()],
        )
        for path in artifacts:
            client.log_artifact(run_id, str(path))
        for path in figures:
            client.log_artifact(run_id, str(path), artifact_path="figures")
        client.set_terminated(run_id, status="FINISHED")
    except Exception as exc:  # MLflow raises many kinds (MlflowException, SQLAlchemy, OSError)
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise TrackingError(
            mask_secrets(
                f"could not log to the MLflow store {tracking_uri}: {type(exc).__name__}: {first}"
            )
        ) from exc
    return TrackedRun(run_id=run_id, experiment_id=experiment_id, tracking_uri=tracking_uri)


def mlflow_key(key: str) -> str:
    """``key`` as a metric or parameter name MLflow accepts; unchanged when it is one already.

    Keys built from product ids (the backtest's ``<product>.relative_vol_bp``) made MLflow
    refuse the whole batch for an id that validation accepts (``+1``, ``P(A)``, ``=X``, 300
    characters): ``rainmaker backtest`` then exited 1 without its output folder. Characters
    MLflow refuses become ``_``, a leading ``.`` is kept off (``..`` reads as a parent folder),
    the name is cut to fit, and 8 hex digits of the original's sha256 keep two such keys apart.
    """
    clean = _NOT_IN_KEY.sub("_", key)
    if clean.startswith("."):
        clean = "_" + clean
    if clean == key and 0 < len(key) <= MAX_KEY_CHARS:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    return f"{clean[: MAX_KEY_CHARS - len(digest) - 1]}_{digest}"


def _quiet_mlflow_logs() -> None:
    # the SQLite store announces its table creation and migrations at INFO on stderr; the
    # daily job's stderr is for progress and problems
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
