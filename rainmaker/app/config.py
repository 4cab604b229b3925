"""Settings of the daily job (``rainmaker run``) read from a TOML configuration file.

One flat file, every key optional (see ``rainmaker.example.toml`` at the repository root)::

    data = "data/sample"              # data-set folder
    output_root = "runs"              # revisions go to <output_root>/<as_of>/r<N>/
    horizon = 14                      # days planned after the as-of day
    model = "auto"                    # forecast model
    lang = "zh"                       # report language, zh or en
    products = []                     # plan only these product ids; empty = every product
    history_url = "sqlite:///runs/history.sqlite"   # any SQLAlchemy URL (default: in output_root)
    tracking_uri = "sqlite:///mlflow.db"            # MLflow tracking store; "" turns it off
    experiment = "rainmaker"          # MLflow experiment name
    optimizer = ""                    # optional optimiser settings file (TOML)
    max_data_age_days = 3             # run/status exit 4: data older or future; 0: off
    data_deadline = ""                # "HH:MM": after it, yesterday's flows missing exit 5
    fail_on = "critical"              # alert severity that makes run/status exit 6; "none"
    timezone = ""                     # IANA zone of the log times and the deadline (default local)
    notify_command = []               # argv of a program given the run's JSON summary on stdin
    notify_url = ""                   # https URL the JSON summary is POSTed to
    notify_timeout_s = 10             # seconds a notifier may take
    keep_days = 0                     # as-of days of revisions kept; 0 keeps every revision
    log_format = "text"               # "text" or "json" (one JSON object per line on stderr)
    progress = true                   # progress of long steps on stderr even when it is not a
                                      # terminal (false: never); absent: only on a terminal

    [liquidity]
    confidence = 0.95                 # quantile of redemptions the liquidity buffer covers

    [weights]                         # objective weights handed to the optimiser
    yield_deviation = 1.0

``[liquidity] confidence`` is the optimiser's name (``optimize/defaults.toml``, and
``{"liquidity": {"confidence": …}}`` in Python); the flat ``confidence`` of earlier files is a
deprecated alias (a ``FutureWarning``).

Relative paths (``data``, ``output_root``, ``optimizer`` and the file of a ``sqlite:///`` URL)
are resolved against the folder of the configuration file, so that a cron job started from any
directory reads and writes the same places; without a file they are relative to the working
directory. Without ``history_url`` the run history is ``<output_root>/history.sqlite``: it
belongs to the output root, wherever the job is started from and wherever the root is moved.
A key that is not known, or a value of the wrong type or range, stops the command with exit
status 2 and names the file, the key and what it accepts: a typo in a scheduled job's settings
must not be silently ignored. The defaults and the accepted values have one home, the fields of
:class:`DailyConfig`; the file is read by the loader the optimiser's settings use too
(:mod:`rainmaker.settings_core`), and ``rainmaker.example.toml`` is tested equal to them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tomllib
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rainmaker import __version__
from rainmaker.app.outputs import check_output_folder
from rainmaker.errors import UsageError
from rainmaker.limits import MAX_HORIZON_DAYS, MAX_OBJECTIVE_PRICE, MIN_CONFIDENCE
from rainmaker.settings_core import Settings, SettingsError, internal, read_settings, setting
from rainmaker.tracking import check_tracking_uri

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "FAIL_ON_CHOICES",
    "SEVERITIES",
    "HISTORY_FILE",
    "DailyConfig",
    "default_history_url",
    "load_config",
    "product_selection",
    "resolve_sqlite_url",
]

DEFAULT_CONFIG_FILE = Path("rainmaker.toml")
HISTORY_FILE = "history.sqlite"  # the default run history, inside the output root
LANGUAGES = ("zh", "en")
# Flows of day D are complete early on D+1, so a healthy job plans data 1 day old; 3 allows a
# feed that is a day or two late before the job fails (exit 4).
DEFAULT_MAX_DATA_AGE_DAYS = 3
MAX_DATA_AGE_DAYS = 3650
# Alert severities, most severe first (the report's, rainmaker.app.report); "none": never fail.
SEVERITIES = ("critical", "warning", "info")
FAIL_ON_CHOICES = (*SEVERITIES, "none")
LOG_FORMATS = ("text", "json")
MAX_NOTIFY_TIMEOUT_S = 300
# Retention beyond a century keeps every revision anyway; a larger number (1e20) overflowed the
# date arithmetic of the retention step after the run had published its revision (exit 1).
MAX_KEEP_DAYS = 36500
_DEADLINE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def product_selection(ids: Iterable[str]) -> tuple[str, ...]:
    """Product ids as a selection: a set, each id once, in sorted order whatever the order and
    repeats given (``--products P02,P01,P01`` or ``products = ["P02", "P01"]`` is ``P01,P02``:
    the same plan, the same revision, the same outputs; the order they were given in chose
    nothing, but made a new revision, 'settings changed')."""
    return tuple(sorted(set(ids)))


def _within(low: float, high: float) -> Callable[[float], bool]:
    return lambda v: low <= v <= high


def _optional_path(value: str, folder: Path | None) -> Path | None:
    """``""`` is "none" (TOML has no null); other paths are relative to the file's folder."""
    return None if value == "" else _resolve(Path(value), folder)


def _zone_exists(name: str) -> bool:
    if name == "":
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _lasting_database_url(url: str) -> bool:
    """A non-empty URL of a database that outlives the command: an SQLite URL must name a
    file. ``sqlite://``, ``sqlite:///`` (no file) and ``sqlite:///:memory:`` open a database in
    memory, gone when the command ends: every run recorded there was lost, ``status`` said
    "never" after a good run, and ``run`` was never idempotent."""
    if url.strip() == "":
        return False
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.split("+", 1)[0].lower() != "sqlite":
        return True  # another database; open_history says what is wrong with a bad one
    database = rest.removeprefix("/").split("?", 1)[0]  # sqlite:///<file>?<options>
    return database not in ("", ":memory:")


def _http_url(url: str) -> bool:
    """An ``http(s)`` URL that urllib can send: ASCII without blanks or control characters
    (a webhook's path is percent-encoded, an international host punycode), a host whose labels
    IDNA accepts and a numeric port if any. urllib raised on the others (``http://u:pw@/x``, a
    space, ``/é``, ``a..b``) after the run had published: exit 1, the URL's password or path in
    the message."""
    if not url.isascii() or any(c.isspace() or not c.isprintable() for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
        host = parts.hostname or ""
        host.encode("idna")  # UnicodeError (a ValueError): an empty or too long label
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and host != ""


@dataclass(frozen=True)
class DailyConfig(Settings):
    """Settings of one daily job; the defaults run the sample data set.

    Each field declares its default and what it accepts (:func:`rainmaker.settings_core.setting`,
    the one home of both); :func:`load_config` reads a file into it, and making one in Python
    runs the same checks.

    Attributes:
        data: data-set folder.
        output_root: folder under which each as-of day gets ``<as_of>/r<N>/`` revisions.
        horizon: days planned after the as-of day (1 to 60).
        confidence: quantile of each day's redemptions the liquidity buffer must cover (0.90
            up to, not including, 1); the forecast also gives this quantile and its mirror.
            In the file: ``[liquidity] confidence``.
        model: forecast model name handed to ``forecast.run_forecast``.
        lang: report language, ``"zh"`` or ``"en"``.
        products: product ids to plan, a set (:func:`product_selection`: sorted, each once);
            empty means every product with flows.
        weights: objective weights handed to the optimiser (name -> weight ≥ 0).
        history_url: SQLAlchemy URL of the run-history database; None (the default) is the
            SQLite file ``history.sqlite`` in ``output_root`` (:func:`default_history_url`).
        tracking_uri: MLflow tracking URI; empty string turns tracking off.
        experiment: MLflow experiment name.
        optimizer: an optimiser settings file (TOML, keys of ``optimize/defaults.toml``), or
            None for the optimiser's defaults; ``horizon``, ``confidence`` and ``weights`` here
            override it.
        max_data_age_days: ``rainmaker run`` and ``rainmaker status`` exit 4 when the latest
            complete day of the data is more than this many days before today (local time),
            or after today; 0 turns the check off.
        data_deadline: local time ``"HH:MM"``; a run after it exits 5 when yesterday's flows
            have not landed (the latest complete day is earlier). Empty: no deadline.
        fail_on: ``run`` and ``status`` exit 6 when the plan in effect has an alert of this
            severity or a more severe one (``critical``, ``warning``, ``info``); ``"none"``
            never fails on alerts.
        timezone: IANA zone (``Asia/Shanghai``) of log times, "today" and the deadline; empty
            is the machine's local zone.
        notify_command: argv of a program run after the job with its JSON summary on stdin
            (no shell); empty: none.
        notify_url: ``http(s)`` URL the JSON summary is POSTed to; empty: none.
        notify_timeout_s: seconds each notifier may take (1 to 300).
        keep_days: revisions of as-of days more than this many days before the newest as-of
            day are deleted after each run (never the one ``latest`` points at); 0 keeps all.
        log_format: ``"text"`` or ``"json"`` lines on stderr.
        progress: show the progress of long steps on stderr (True even when stderr is not a
            terminal, False never); None (the default, no key) shows it on a terminal only.
            ``--progress`` / ``--no-progress`` override it.
        source: the configuration file read, or None for the defaults.
    """

    # A hint added to the error about an unknown key in a table of this file.
    settings_hints: ClassVar[Mapping[str, str]] = {
        "liquidity": "other optimiser settings go in the file named by 'optimizer'"
    }

    data: Path = setting(Path("data/sample"), expected="a folder path (string)")
    output_root: Path = setting(Path("runs"), expected="a folder path (string)")
    horizon: int = setting(
        14,
        expected=f"an integer number of days from 1 to {MAX_HORIZON_DAYS}",
        check=_within(1, MAX_HORIZON_DAYS),
    )
    confidence: float = setting(
        0.95,
        key="liquidity.confidence",
        expected=f"a probability from {MIN_CONFIDENCE} up to but excluding 1, e.g. 0.95",
        check=lambda v: MIN_CONFIDENCE <= v < 1.0,
    )
    model: str = setting("auto", expected="a forecast model name (string)", check=bool)
    lang: str = setting("zh", expected="'zh' or 'en'", check=lambda v: v in LANGUAGES)
    products: tuple[str, ...] = setting(
        (), expected="a list of product ids (non-empty strings)", each=bool
    )
    weights: Mapping[str, float] = setting(
        expected=f"a number from 0 to {MAX_OBJECTIVE_PRICE:g} (an objective weight)",
        each=_within(0, MAX_OBJECTIVE_PRICE),
        default_factory=dict,
    )
    history_url: str | None = setting(
        None,
        expected="an SQLAlchemy URL of a database kept on disk or a server, e.g. "
        "sqlite:///runs/history.sqlite (sqlite:/// without a file and :memory: keep nothing "
        "once the command ends)",
        check=_lasting_database_url,
        read=lambda value, folder: resolve_sqlite_url(value, folder),
    )
    tracking_uri: str = setting(
        "sqlite:///mlflow.db",
        expected="an MLflow tracking URI (string; empty turns tracking off)",
        read=lambda value, folder: resolve_sqlite_url(value, folder),
    )
    experiment: str = setting(
        "rainmaker",
        expected="an MLflow experiment name (non-empty string)",
        check=lambda v: v.strip() != "",
    )
    optimizer: Path | None = setting(
        None,
        expected="a path to an optimiser settings file that exists (string; empty: the "
        "optimiser's defaults)",
        check=lambda v: Path(v).is_file(),
        read=_optional_path,
    )
    max_data_age_days: int = setting(
        DEFAULT_MAX_DATA_AGE_DAYS,
        expected=f"a whole number of days from 0 (no check) to {MAX_DATA_AGE_DAYS}",
        check=_within(0, MAX_DATA_AGE_DAYS),
    )
    data_deadline: str = setting(
        "",
        expected="a local time 'HH:MM' (24 h), or '' for no deadline",
        check=lambda v: v == "" or _DEADLINE.match(v) is not None,
    )
    fail_on: str = setting(
        "critical",
        expected=f"one of {', '.join(repr(c) for c in FAIL_ON_CHOICES)}",
        check=lambda v: v in FAIL_ON_CHOICES,
    )
    timezone: str = setting(
        "",
        expected="an IANA time zone name such as 'Asia/Shanghai', or '' for the local zone",
        check=_zone_exists,
    )
    notify_command: tuple[str, ...] = setting(
        (), expected="a list of strings: a program and its arguments (no shell)", each=bool
    )
    notify_url: str = setting(
        "",
        expected="an http:// or https:// URL, or ''",
        check=lambda v: v == "" or _http_url(v),
        secret=True,  # never echoed: a webhook's path or query often is its secret
    )
    notify_timeout_s: float = setting(
        10.0,
        expected=f"a number of seconds from 1 to {MAX_NOTIFY_TIMEOUT_S}",
        check=_within(1, MAX_NOTIFY_TIMEOUT_S),
    )
    keep_days: int = setting(
        0,
        expected=f"a whole number of days from 0 (0 keeps every revision) to {MAX_KEEP_DAYS}",
        check=_within(0, MAX_KEEP_DAYS),
    )
    log_format: str = setting("text", expected="'text' or 'json'", check=lambda v: v in LOG_FORMATS)
    progress: bool | None = setting(
        None, expected="true or false (absent: progress on a terminal only)"
    )
    source: Path | None = internal(None)

    def __post_init__(self) -> None:
        if self.history_url is None:
            # frozen: the one place the derived default is filled in
            object.__setattr__(self, "history_url", default_history_url(self.output_root))
        where = str(self.source or "settings")
        try:
            super().__post_init__()
        except SettingsError as error:
            raise error.located(where) from error
        object.__setattr__(self, "products", product_selection(self.products))
        # a file in the way is refused for every command; whether it can be written is
        # checked by those that write (rainmaker run), not by status or history
        check_output_folder(Path(self.output_root), f"{where}: key 'output_root':", writable=False)
        check_tracking_uri(self.tracking_uri, f"{where}: key 'tracking_uri'")

    @property
    def history_database(self) -> str:
        """The run-history database's URL (``history_url``, or its default once filled in)."""
        return self.history_url or default_history_url(self.output_root)

    @property
    def zone(self) -> ZoneInfo | None:
        """The configured time zone, or None for the machine's local zone."""
        return ZoneInfo(self.timezone) if self.timezone else None

    def replace(self, **changes: Any) -> DailyConfig:
        """A copy with some settings changed (validated again).

        A history database that was the default of the old output root follows a new
        ``output_root``.
        """
        derived = self.history_url == default_history_url(self.output_root)
        if "output_root" in changes and "history_url" not in changes and derived:
            changes["history_url"] = None
        return dataclasses.replace(self, **changes)

    def plan_settings(self) -> dict[str, Any]:
        """The settings that change a plan's numbers, as plain JSON-able values.

        Two runs on the same data with equal plan settings produce the same plan, so this
        (with the data's fingerprint) decides whether a scheduled run is a no-op.
        """
        return {
            "horizon": self.horizon,
            "confidence": self.confidence,
            "model": self.model,
            "lang": self.lang,
            "products": list(self.products),
            "weights": {k: float(v) for k, v in sorted(self.weights.items())},
            # the optimiser file's content, not its name: an edit makes a new revision
            "optimizer": _file_digest(self.optimizer),
            # and the defaults under it, and the release: an upgrade that changes how a plan
            # is made (a new default) re-plans the day instead of calling it "nothing to do"
            "optimizer_defaults": _file_digest(_optimizer_defaults_file()),
            "version": _version(),
        }

    def job_overrides(self) -> dict[str, dict[str, Any]]:
        """The optimiser settings the job always sets, its defaults included (the horizon and
        the confidence): the optimiser file cannot set them otherwise."""
        return {"horizon": {"days": self.horizon}, "liquidity": {"confidence": self.confidence}}

    def optimizer_overrides(self) -> dict[str, dict[str, Any]]:
        """The settings handed to ``optimize.load_settings`` on top of the optimiser file:
        :meth:`job_overrides` and the weights the job sets."""
        overrides = self.job_overrides()
        if self.weights:
            overrides["weights"] = {k: float(v) for k, v in self.weights.items()}
        return overrides

    def settings_hash(self) -> str:
        """sha256 (hex) of :meth:`plan_settings`, stable across runs and machines."""
        text = json.dumps(self.plan_settings(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def load_config(path: str | Path | None = None) -> DailyConfig:
    """Read the daily job's settings.

    Args:
        path: a TOML file. None reads ``rainmaker.toml`` in the working directory when it
            exists, else returns the defaults.

    Returns:
        The validated settings, with relative paths resolved against the file's folder.

    Raises:
        UsageError: the file named is missing or is not valid TOML, a key is unknown, or a
            value has the wrong type or range (exit status 2).
    """
    if path is None:
        if not DEFAULT_CONFIG_FILE.is_file():
            return DailyConfig()
        path = DEFAULT_CONFIG_FILE
    file = Path(path)
    if not file.is_file():
        what = "is a folder" if file.is_dir() else "does not exist"
        raise UsageError(f"configuration file {file} {what}; expected a TOML file")
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{file}: not valid TOML ({exc})") from exc
    return config_from_mapping(raw, source=file)


def config_from_mapping(raw: Mapping[str, Any], source: Path | None = None) -> DailyConfig:
    """Settings from a mapping of configuration keys (as read from TOML).

    Args:
        raw: key -> value, keys as in the module docstring.
        source: the file the mapping came from; relative paths are resolved against its folder.

    Raises:
        UsageError: unknown key, wrong type or out-of-range value; the message names the key.
    """
    where = str(source) if source is not None else "settings"
    folder = source.resolve().parent if source is not None else None
    raw = _liquidity_alias(raw, where)
    return read_settings(DailyConfig, raw, source=where, folder=folder, extra={"source": source})


def _liquidity_alias(raw: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    """``[liquidity] confidence`` (the optimiser's and the API's name) as the one spelling.

    The flat ``confidence`` of earlier files still works, with a ``FutureWarning`` (shown to
    operators, unlike a DeprecationWarning); giving both is refused. Other optimiser keys
    belong in the ``optimizer`` file: the table takes ``confidence`` only
    (``DailyConfig.settings_hints`` says so in the error).
    """
    if "confidence" not in raw:
        return raw
    if "liquidity" in raw:
        raise UsageError(
            f"{where}: both 'confidence' and [liquidity] confidence are set; keep "
            "[liquidity] confidence only"
        )
    warnings.warn(
        f"{where}: key 'confidence' is deprecated; write [liquidity] confidence = "
        f"{raw['confidence']!r} (the name optimize/defaults.toml and the Python API use)",
        FutureWarning,
        stacklevel=3,
    )
    values = {k: v for k, v in raw.items() if k != "confidence"}
    values["liquidity"] = {"confidence": raw["confidence"]}
    return values


def default_history_url(output_root: Path) -> str:
    """The run history when ``history_url`` is not set: ``<output_root>/history.sqlite``."""
    return f"sqlite:///{Path(output_root) / HISTORY_FILE}"


def resolve_sqlite_url(url: str, base: Path | None) -> str:
    """Make the file of a relative ``sqlite:///`` URL relative to ``base``; other URLs unchanged.

    Args:
        url: an SQLAlchemy or MLflow URL.
        base: folder relative file paths are resolved against (None: leave the URL as is).
    """
    prefix = "sqlite:///"
    if base is None or not url.startswith(prefix):
        return url
    rest = url[len(prefix) :]
    if rest == "" or rest.startswith("/") or rest.startswith(":memory:"):
        return url
    return prefix + str(base / rest)


def _optimizer_defaults_file() -> Path:
    # imported here, not at the top: the command line loads this module for every command and
    # the optimizer package brings numpy and pandas with it
    from optimize.settings import DEFAULTS_FILE

    return DEFAULTS_FILE


def _version() -> str:
    return __version__


def _file_digest(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None  # reported by DailyConfig's check of the key


def _resolve(path: Path, base: Path | None) -> Path:
    return path if base is None or path.is_absolute() else base / path
