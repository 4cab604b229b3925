"""One loader for every settings file: TOML tables read into typed, frozen dataclasses.

The daily job's file (:mod:`rainmaker.app.config`) and the optimizer's (``optimize/settings.py``
with ``optimize/defaults.toml``) are both a tree of frozen dataclasses that derive from
:class:`Settings`. Each field says, next to its default, what it accepts::

    @dataclass(frozen=True)
    class HorizonSettings(Settings):
        days: int = setting(14, expected="an integer from 1 to 60 days", check=lambda v: ...)

Its type comes from the annotation (``bool``, ``int``, ``float``, ``str``, ``Path``,
``X | None``, ``tuple[str, ...]``, ``Mapping[str, float]`` or another settings dataclass, which
is a TOML table); ``check`` tests the whole value, ``each`` every item of a list or every value
of a table. :func:`read_settings` reads a TOML mapping into such a tree, or on top of an
existing one (:func:`update_settings`: the optimizer's defaults, then a user file, then
overrides). An unknown key, a
value of the wrong type or out of range raises :class:`SettingsError` (a
:class:`~rainmaker.errors.UsageError`, exit status 2) with one message format naming the file,
the key path and what is expected::

    rainmaker.toml: key 'liquidity.confidence': expected a probability from 0.9 up to but
    excluding 1, e.g. 0.95, got 0.8

The same checks run when a settings object is made in Python (``__post_init__``), so a plan
cannot be made from settings a file could not hold. Checks between fields (``exit_z`` below
``enter_z``) go in the class's ``__post_init__`` after ``super().__post_init__()``, with
:func:`require`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass
from pathlib import Path
from typing import Any, TypeVar

from rainmaker.errors import UsageError

__all__ = [
    "Settings",
    "SettingsError",
    "check_fields",
    "internal",
    "read_settings",
    "require",
    "setting",
    "setting_keys",
    "update_settings",
]

T = TypeVar("T")
_META = "rainmaker.setting"
_NOTHING: Any = object()  # "no value to show" (a secret, or a missing key)

# What a value of each kind must be, when the field says nothing more precise.
_KIND_TEXT = {
    bool: "true or false",
    int: "an integer",
    float: "a number",
    str: "a string",
    Path: "a path (string)",
    tuple: "a list of strings",
    Mapping: "a table of name = number",
}


@dataclass(frozen=True)
class Spec:
    """What one settings field accepts (the metadata :func:`setting` attaches).

    Attributes:
        expected: the accepted values in words, the end of every error about the field.
        check: a test of the whole (typed) value; False is an error.
        each: a test of each item of a list, or each value of a table (the error names the
            table's key, ``weights.income``).
        key: the TOML key path when it is not the field's name (``liquidity.confidence``: a
            one-key table read into a flat field).
        read: turns the file's value (type-checked) into the field's, given the folder of the
            file (None: no file); the default makes relative paths relative to that folder.
        secret: never echo the value in an error (a webhook URL carries its token).
        internal: not a settings key (e.g. the file the settings came from).
    """

    expected: str = ""
    check: Callable[[Any], bool] | None = None
    each: Callable[[Any], bool] | None = None
    key: str | None = None
    read: Callable[[Any, Path | None], Any] | None = None
    secret: bool = False
    internal: bool = False


def setting(
    default: Any = MISSING,
    *,
    expected: str = "",
    check: Callable[[Any], bool] | None = None,
    each: Callable[[Any], bool] | None = None,
    key: str | None = None,
    read: Callable[[Any, Path | None], Any] | None = None,
    secret: bool = False,
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """A settings field: its default and what it accepts (see :class:`Spec`)."""
    spec = Spec(expected, check, each, key, read, secret)
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata={_META: spec})
    return dataclasses.field(default=default, metadata={_META: spec})


def internal(default: Any) -> Any:
    """A field of a settings dataclass that no file sets (checked by its class, if at all)."""
    return dataclasses.field(default=default, metadata={_META: Spec(internal=True)})


class SettingsError(UsageError):
    """A settings key that is unknown, or a value of the wrong type or range. Exit status 2.

    Attributes:
        key: the key path, ``liquidity.confidence`` (unknown keys: every one in the table,
            comma-separated, so that one run names all the typos).
        expected: what the key accepts (for an unknown key: the keys known there).
        source: the file (or ``"optimizer overrides"``), None while not yet known.
        unknown: the key is not a setting.
    """

    def __init__(
        self,
        key: str,
        expected: str,
        got: Any = _NOTHING,
        *,
        source: str | None = None,
        unknown: bool = False,
    ) -> None:
        self.key, self.expected, self.got = key, expected, got
        self.source, self.unknown = source, unknown
        where = source or "settings"
        if unknown:
            text = f"{where}: unknown key(s) {key}; expected one of {expected}"
        else:
            shown = "" if got is _NOTHING else f", got {_show(got)}"
            text = f"{where}: key '{key}': expected {expected}{shown}"
        super().__init__(text)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Rebuilt from its fields, not from the message (the default), so that the error
        # crosses a process pool intact (benchmarks/panel.py's workers raise it).
        args: tuple[Any, ...] = (self.key, self.expected)
        if self.got is not _NOTHING:
            args += (self.got,)
        return functools.partial(SettingsError, source=self.source, unknown=self.unknown), args

    def located(self, source: str, prefix: str = "") -> SettingsError:
        """This error in ``source`` under the table ``prefix`` (unchanged if already placed)."""
        if self.source is not None:
            return self
        return SettingsError(
            prefix + self.key, self.expected, self.got, source=source, unknown=self.unknown
        )


def _show(value: Any) -> str:
    return repr(str(value)) if isinstance(value, Path) else repr(value)


def require(ok: bool, key: str, expected: str, got: Any = _NOTHING) -> None:
    """Raise :class:`SettingsError` for ``key`` unless ``ok`` (a check between fields)."""
    if not ok:
        raise SettingsError(key, expected, got)


class Settings:
    """Base of a frozen settings dataclass: making one checks every field (types, ranges)."""

    def __post_init__(self) -> None:
        check_fields(self)


# ---------------------------------------------------------------------------- field types


@dataclass(frozen=True)
class _Kind:
    base: Any  # bool, int, float, str, Path, tuple, Mapping, or a settings dataclass
    item: Any = None  # of a tuple or a Mapping
    optional: bool = False


def _kind(annotation: Any) -> _Kind:
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        (only,) = args  # one type or None: nothing else is a setting
        return dataclasses.replace(_kind(only), optional=True)
    if origin is tuple:
        return _Kind(tuple, typing.get_args(annotation)[0])
    if origin is not None and issubclass(origin, Mapping):
        return _Kind(Mapping, typing.get_args(annotation)[1])
    if annotation in _KIND_TEXT or dataclasses.is_dataclass(annotation):
        return _Kind(annotation)
    raise TypeError(f"no settings type {annotation!r}")  # pragma: no cover - a programming error


_FIELDS: dict[type, tuple[tuple[dataclasses.Field[Any], Spec, _Kind], ...]] = {}


def _fields(cls: type) -> tuple[tuple[dataclasses.Field[Any], Spec, _Kind], ...]:
    """The settings fields of ``cls`` with their specs and kinds (read once per class)."""
    if cls not in _FIELDS:
        _FIELDS[cls] = _settings_fields(cls)
    return _FIELDS[cls]


def _settings_fields(cls: type) -> tuple[tuple[dataclasses.Field[Any], Spec, _Kind], ...]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get(_META, Spec())
        if not spec.internal:
            out.append((f, spec, _kind(hints[f.name])))
    return tuple(out)


def _is(base: Any, value: Any, *, strict: bool) -> bool:
    """Is ``value`` of the scalar kind ``base``? ``strict``: as TOML holds it."""
    if base is bool:
        return isinstance(value, bool)
    if base is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if base is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        return ok and math.isfinite(float(value))  # a setting is never NaN or infinite
    if base is str:
        # nor holds a NUL: the operating system refuses one in a path, an argument or a URL
        # (a ValueError after the run's work, not a message naming the key)
        return isinstance(value, str) and "\0" not in value
    if base is Path:
        if isinstance(value, str):
            return "\0" not in value
        return not strict and isinstance(value, os.PathLike) and "\0" not in os.fsdecode(value)
    return isinstance(value, base)


def _type_ok(kind: _Kind, value: Any, *, strict: bool) -> bool:
    if kind.base is tuple:
        items = isinstance(value, list) or (not strict and isinstance(value, tuple))
        return items and all(_is(kind.item, v, strict=strict) for v in value)
    if kind.base is Mapping:
        return isinstance(value, Mapping) and all(
            isinstance(k, str) and _is(kind.item, v, strict=strict) for k, v in value.items()
        )
    return _is(kind.base, value, strict=strict)


def _expected(spec: Spec, kind: _Kind) -> str:
    if spec.expected:
        return spec.expected
    if dataclasses.is_dataclass(kind.base):
        return "a table of key = value"
    return _KIND_TEXT[kind.base]


def _check_value(spec: Spec, kind: _Kind, key: str, value: Any, *, strict: bool) -> None:
    """Type, then each item, then the whole value; raises SettingsError naming ``key``."""
    got = _NOTHING if spec.secret else value
    if dataclasses.is_dataclass(kind.base):
        require(isinstance(value, typing.cast(type, kind.base)), key, _expected(spec, kind), got)
        return
    require(_type_ok(kind, value, strict=strict), key, _expected(spec, kind), got)
    if spec.each is not None:
        if kind.base is Mapping:
            for name, item in value.items():
                shown = _NOTHING if spec.secret else item
                require(spec.each(item), f"{key}.{name}", spec.expected, shown)
        else:
            require(all(spec.each(v) for v in value), key, _expected(spec, kind), got)
    if spec.check is not None:
        require(spec.check(value), key, _expected(spec, kind), got)


def check_fields(obj: Any) -> None:
    """Check every settings field of a dataclass instance against its type and :class:`Spec`.

    Raises:
        SettingsError: the first field whose value is not accepted (its key path is the
            field's own; :func:`read_settings` adds the table and the file).
    """
    for f, spec, kind in _fields(type(obj)):
        value = getattr(obj, f.name)
        if value is None and kind.optional:
            continue
        _check_value(spec, kind, spec.key or f.name, value, strict=False)


# ------------------------------------------------------------------------------- reading


def setting_keys(cls: type) -> dict[str, dataclasses.Field[Any]]:
    """Key path -> field of every setting of ``cls`` (tables of settings are not descended)."""
    return {spec.key or f.name: f for f, spec, _ in _fields(cls)}


_Entry = tuple[dataclasses.Field[Any], Spec, _Kind]


def _layout(cls: type) -> dict[str, Any]:
    """First key -> its field, or for a one-key table (``key=``) -> {subkey: field}."""
    layout: dict[str, Any] = {}
    for entry in _fields(cls):
        f, spec, _ = entry
        head, _, rest = (spec.key or f.name).partition(".")
        if rest:
            layout.setdefault(head, {})[rest] = entry
        else:
            layout[head] = entry
    return layout


def _convert(spec: Spec, kind: _Kind, value: Any, folder: Path | None, key: str) -> Any:
    """The field's value from the file's, already type-checked."""
    if spec.read is not None:
        return spec.read(value, folder)
    if kind.base is float:
        return float(value)
    if kind.base is tuple:
        return tuple(value)
    if kind.base is Mapping:
        return {k: float(v) if kind.item is float else v for k, v in value.items()}
    if kind.base is Path:
        # an empty path would silently mean the working directory
        require(value != "", key, _expected(spec, kind), value)
        path = Path(value)
        return path if folder is None or path.is_absolute() else folder / path
    return value


def _read_field(
    entry: _Entry, value: Any, target: Any, *, key: str, source: str, folder: Path | None
) -> Any:
    f, spec, kind = entry
    if dataclasses.is_dataclass(kind.base):
        if not isinstance(value, Mapping):
            raise SettingsError(key, "a table of key = value", value, source=source)
        inner = kind.base if isinstance(target, type) else getattr(target, f.name)
        return _read(inner, value, source=source, folder=folder, prefix=f"{key}.")
    try:
        if kind.base is Mapping and isinstance(value, Mapping):
            # name the table's key whose value is of the wrong type (weights.income), as a
            # value out of range is named
            for name, item in value.items():
                shown = _NOTHING if spec.secret else item
                ok = isinstance(name, str) and _is(kind.item, item, strict=True)
                require(ok, f"{key}.{name}", _expected(spec, kind), shown)
        require(_type_ok(kind, value, strict=True), key, _expected(spec, kind), value)
        return _convert(spec, kind, value, folder, key)
    except SettingsError as error:
        raise error.located(source) from error


def _read(
    target: Any,
    raw: Mapping[str, Any],
    *,
    source: str,
    folder: Path | None,
    prefix: str,
    extra: Mapping[str, Any] | None = None,
) -> Any:
    cls = target if isinstance(target, type) else type(target)
    layout = _layout(cls)
    hints: Mapping[str, str] = getattr(cls, "settings_hints", {})
    values: dict[str, Any] = dict(extra or {})
    unknown = [prefix + key for key in raw if key not in layout]
    if unknown:
        raise SettingsError(", ".join(unknown), ", ".join(layout), source=source, unknown=True)
    for key, value in raw.items():
        entry = layout[key]
        path = prefix + key
        if isinstance(entry, dict):  # a one-key table such as the job's [liquidity]
            if not isinstance(value, Mapping):
                raise SettingsError(path, "a table of key = value", value, source=source)
            others = [f"{path}.{sub}" for sub in value if sub not in entry]
            if others:
                known = ", ".join(entry) + (f" ({hints[key]})" if key in hints else "")
                raise SettingsError(", ".join(others), known, source=source, unknown=True)
            for sub, item in value.items():
                values[entry[sub][0].name] = _read_field(
                    entry[sub], item, target, key=f"{path}.{sub}", source=source, folder=folder
                )
        else:
            values[entry[0].name] = _read_field(
                entry, value, target, key=path, source=source, folder=folder
            )
    try:
        if isinstance(target, type):
            return target(**values)
        return dataclasses.replace(target, **values)
    except SettingsError as error:
        raise error.located(source, prefix) from error


def read_settings(
    cls: type[T],
    raw: Mapping[str, Any],
    *,
    source: str,
    folder: Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> T:
    """Read a TOML mapping into a settings dataclass; keys not in ``raw`` keep their defaults.

    Args:
        cls: a :class:`Settings` dataclass.
        raw: key -> value as :mod:`tomllib` reads them (tables are mappings).
        source: where ``raw`` came from, named in every error (a file, ``"optimizer
            overrides"``).
        folder: the folder relative paths are resolved against (the file's); None leaves them.
        extra: values of fields no file sets (``internal``), such as the file's path.

    Returns:
        The new, checked settings.

    Raises:
        SettingsError: an unknown key, or a value of the wrong type or range (exit status 2).
    """
    result: T = _read(cls, raw, source=source, folder=folder, prefix="", extra=extra)
    return result


def update_settings(
    base: T,
    raw: Mapping[str, Any],
    *,
    source: str,
    folder: Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> T:
    """A copy of ``base`` with the keys of ``raw`` changed, checked as :func:`read_settings`.

    A table in ``raw`` changes only the keys it names (``[liquidity] confidence`` leaves the
    other liquidity settings as they are), but a table of name = number (``[portfolio]``) is
    replaced whole. Used to lay a user file, then overrides, over the optimizer's defaults.
    """
    result: T = _read(base, raw, source=source, folder=folder, prefix="", extra=extra)
    return result
