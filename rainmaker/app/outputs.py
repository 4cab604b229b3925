"""Output folders that appear whole or not at all, revisions, and the lock of the daily job.

A daily run writes its files into a staging folder on the same file system as their final place
and then renames the folder into place with one :func:`os.replace`: a reader, or a run killed
half-way, sees either no folder or a complete one. Scheduled runs keep every revision of a day,
``<output root>/<as_of>/r<N>/``; a later revision never overwrites an earlier one. A lock file
in the output root (:func:`run_lock`) stops two runs from interleaving.

Staging folders live in ``<output root>/.staging/``; one left by a killed run is removed by the
next run that takes the lock. ``<output root>/latest`` is a relative link to the revision in
effect: the newest revision of the newest as-of day that was not withdrawn
(:func:`point_latest`). Retention (:func:`remove_old_days`) deletes the revisions of as-of days
older than a number of days before the newest one, never the one ``latest`` points at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rainmaker.errors import RainmakerError, UsageError

__all__ = [
    "LATEST_LINK",
    "LOCK_FILE",
    "DAY_FILES",
    "FORECAST_FILE",
    "PLAN_FILE",
    "REPORT_FILE",
    "RUN_FILE",
    "WORKBOOK_FILE",
    "LockHeld",
    "Revision",
    "all_revisions",
    "check_output_file",
    "check_output_folder",
    "check_writable",
    "check_replaceable",
    "cleaned_up",
    "clear_staging",
    "day_folder",
    "fsync_tree",
    "latest_target",
    "list_revisions",
    "new_staging",
    "point_latest",
    "publish",
    "publish_replacing",
    "remove_old_days",
    "replace_folder",
    "replaced_whole",
    "run_lock",
    "sibling_staging",
]

LOCK_FILE = ".rainmaker.lock"
STAGING_FOLDER = ".staging"
RUN_FILE = "run.json"
# the files of a day's folder besides run.json (SPEC §3 and the manager's two documents)
PLAN_FILE = "plan.csv"
FORECAST_FILE = "forecast.csv"
REPORT_FILE = "report.html"
WORKBOOK_FILE = "plan.xlsx"
DAY_FILES = (REPORT_FILE, PLAN_FILE, FORECAST_FILE, WORKBOOK_FILE, RUN_FILE)
LATEST_LINK = "latest"
_REVISION = re.compile(r"^r(\d+)$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class LockHeld(RainmakerError):
    """Another run holds the output root's lock. Exit status 3, so alerting can tell it apart."""

    exit_code = 3


@dataclass(frozen=True)
class Revision:
    """One published revision of an as-of day.

    Attributes:
        number: N of ``r<N>`` (1, 2, ...).
        path: the revision's folder.
        run: the content of its ``run.json`` (empty when unreadable).
    """

    number: int
    path: Path
    run: dict[str, Any]


@contextmanager
def run_lock(root: Path, timeout_s: float = 0.0) -> Iterator[Path]:
    """Hold the output root's lock for the duration of the block.

    Args:
        root: the output root (created when missing).
        timeout_s: seconds to wait for a lock held by another run (0: fail at once).

    Yields:
        The lock file's path.

    Raises:
        LockHeld: another process holds the lock (exit status 3).
    """
    from filelock import FileLock, Timeout

    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_FILE
    lock = FileLock(path, timeout=timeout_s)
    try:
        lock.acquire()
    except Timeout as exc:
        raise LockHeld(
            f"another rainmaker run holds the lock {path}; nothing was written. "
            "Retry when it has finished (the lock is released when its process ends)."
        ) from exc
    try:
        yield path
    finally:
        lock.release()


def day_folder(root: Path, as_of: Any) -> Path:
    """``<root>/<as_of as YYYY-MM-DD>``: the folder holding an as-of day's revisions."""
    import pandas as pd

    return root / f"{pd.Timestamp(as_of):%Y-%m-%d}"


def list_revisions(root: Path, as_of: Any) -> list[Revision]:
    """Published revisions of an as-of day, oldest first.

    Args:
        root: output root.
        as_of: the as-of day.
    """
    folder = day_folder(root, as_of)
    if not folder.is_dir():
        return []
    found = []
    for child in folder.iterdir():
        match = _REVISION.match(child.name)
        if match and child.is_dir():
            found.append(Revision(int(match.group(1)), child, _read_run(child)))
    return sorted(found, key=lambda r: r.number)


def all_revisions(root: Path) -> list[Revision]:
    """Published revisions of every as-of day under ``root``, by day then number.

    Only ``<YYYY-MM-DD>/r<N>`` folders count (not the ``latest`` link, not staging folders).
    """
    if not root.is_dir():
        return []
    days = sorted(
        p for p in root.iterdir() if _DAY.match(p.name) and p.is_dir() and not p.is_symlink()
    )
    return [revision for day in days for revision in list_revisions(root, day.name)]


def new_staging(root: Path) -> Path:
    """A fresh, empty staging folder under ``<root>/.staging/`` (same file system as root)."""
    folder = root / STAGING_FOLDER / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder


def clear_staging(root: Path) -> list[Path]:
    """Remove staging folders left by killed runs. Call only while holding the lock.

    Returns:
        The folders removed.
    """
    staging = root / STAGING_FOLDER
    if not staging.is_dir():
        return []
    removed = []
    for child in staging.iterdir():
        shutil.rmtree(child, ignore_errors=True)
        removed.append(child)
    return removed


def point_latest(root: Path, withdrawn: Collection[str] = ()) -> Path | None:
    """Point ``<root>/latest`` at the revision in effect and return it.

    The revision in effect is the newest revision of the newest as-of day whose run id is not
    in ``withdrawn`` (``rainmaker rollback``); a back-fill of an earlier day does not move the
    link. It is swapped atomically, and only when it changes; best effort (a file system
    without symbolic links keeps the dated folders, which are the record anyway).

    Args:
        root: output root.
        withdrawn: run ids of withdrawn revisions.

    Returns:
        The revision folder in effect, or None when there is none.
    """
    revisions = [r for r in all_revisions(root) if str(r.run.get("run_id", "")) not in withdrawn]
    if not revisions:
        return None
    newest = revisions[-1].path
    link = root / LATEST_LINK
    target = newest.relative_to(root)
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return newest
    temporary = root / f".{LATEST_LINK}-{uuid.uuid4().hex[:8]}"
    try:
        os.symlink(target, temporary)
        os.replace(temporary, link)
    except OSError:
        temporary.unlink(missing_ok=True)
    return newest


def latest_target(root: Path) -> Path | None:
    """The revision folder ``<root>/latest`` points at, or None (no link, or a broken one)."""
    link = root / LATEST_LINK
    if not link.is_symlink():
        return None
    target = root / os.readlink(link)
    return target if target.is_dir() else None


def remove_old_days(root: Path, keep_days: int, keep: Collection[Path] = ()) -> list[Path]:
    """Retention: delete the as-of day folders more than ``keep_days`` days before the newest.

    Days are counted back from the newest as-of day in the root, not from today, so a feed that
    stopped does not make the job delete its last plans. A folder holding a revision in
    ``keep`` (the one ``latest`` points at) stays. Left-over temporary ``latest`` links of a
    killed run are removed too. Call only while holding the lock.

    Args:
        root: output root.
        keep_days: days of as-of folders kept before the newest; 0 keeps everything.
        keep: revision folders never deleted.

    Returns:
        The day folders deleted, oldest first.
    """
    import pandas as pd

    if not root.is_dir():
        return []
    for leftover in root.glob(f".{LATEST_LINK}-*"):
        if leftover.is_symlink():
            leftover.unlink(missing_ok=True)
    if keep_days <= 0:
        return []
    days = sorted(
        p for p in root.iterdir() if _DAY.match(p.name) and p.is_dir() and not p.is_symlink()
    )
    if not days:
        return []
    cut = pd.Timestamp(days[-1].name) - pd.Timedelta(days=keep_days)
    kept_days = {Path(k).resolve().parent for k in keep}
    removed = []
    for day in days:
        if pd.Timestamp(day.name) >= cut or day.resolve() in kept_days:
            continue
        shutil.rmtree(day)
        removed.append(day)
    return removed


def fsync_tree(folder: Path) -> None:
    """Flush every file of ``folder`` and the folder itself to disk.

    The rename that publishes a folder is atomic for other processes; flushing first makes it
    survive a power cut too (no renamed folder with empty files).
    """
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def publish(staged: Path, final: Path) -> Path:
    """Move a complete staging folder to ``final`` in one rename.

    Args:
        staged: the staging folder, with every file written.
        final: where it must appear; must not exist yet (revisions are never overwritten).

    Returns:
        ``final``.

    Raises:
        FileExistsError: ``final`` already exists.
    """
    if final.exists():
        raise FileExistsError(f"{final} exists; a published folder is never overwritten")
    final.parent.mkdir(parents=True, exist_ok=True)
    fsync_tree(staged)
    os.replace(staged, final)
    _fsync_dir(final.parent)
    return final


def check_output_folder(path: Path, what: str, *, writable: bool = True) -> None:
    """Refuse, before any work, an output folder that cannot be created or written into.

    Args:
        path: the folder (it may not exist yet: it is created with its parents).
        what: how the user named it, e.g. ``--out`` or ``output_root``.
        writable: also check that something can be created in it, or in its nearest existing
            parent (:func:`check_writable`); False for a command that only reads it
            (``rainmaker status`` under a read-only monitoring account).

    Raises:
        UsageError: ``path`` or one of its parents is a file, or (``writable``) nothing can be
            created there (exit status 2).
    """
    blocker = _file_in_the_way(path)
    if blocker == path:
        raise UsageError(f"{what} {path} is a file; expected a folder (created when missing)")
    if blocker is not None:
        raise UsageError(f"{what} {path}: {blocker} is a file, so the folder cannot be created")
    if writable:
        nearest = next((c for c in (path, *path.parents) if c.is_dir()), None)
        if nearest is not None:
            check_writable(nearest, f"{what} {path}")


def check_writable(folder: Path, what: str) -> None:
    """Refuse a folder nothing can be created in (no permission, a read-only file system):
    the command would otherwise do its work and then fail to write it (exit 1).

    A probe folder is created in ``folder`` and removed at once, which tests what the write
    will do (staging folders, temporary files), for any user and file system.

    Raises:
        UsageError: the probe could not be created (exit status 2).
    """
    try:
        probe = tempfile.mkdtemp(prefix=".rainmaker-probe-", dir=folder)
    except OSError as exc:
        raise UsageError(
            f"{what}: cannot write in {folder} ({exc.strerror or exc}); expected a folder this "
            "user can write in"
        ) from exc
    os.rmdir(probe)


def check_output_file(
    path: Path,
    what: str,
    *,
    keys: Sequence[str] | None = None,
    data: Path | None = None,
) -> None:
    """Refuse, before any work, an output file that could not or must not be written.

    Args:
        path: the file.
        what: how the user named it, e.g. ``--out``.
        keys: the columns the output's CSV header starts with: an existing file whose header
            does not is somebody else's, and is not replaced. None: any file is replaced.
        data: the data set folder being read: no output goes inside it (it would replace or
            add a table of the input).

    Raises:
        UsageError: ``path`` is a folder, its folder does not exist, is a file or cannot be
            written in, it lies in ``data``, or it is an existing file that is not an earlier
            output of the kind (exit 2).
    """
    if path.is_dir():
        raise UsageError(f"{what} {path} is a folder; expected a file name")
    parent = path.parent
    if not parent.is_dir():
        what_is = "is a file" if parent.exists() else "does not exist"
        raise UsageError(f"{what} {path}: folder {parent} {what_is}; expected an existing folder")
    if not path.exists() or path.is_file():  # a device or a pipe is written to, not replaced
        check_writable(parent, f"{what} {path}")  # the file is renamed into place from there
    if data is not None and path.resolve().is_relative_to(data.resolve()):
        raise UsageError(
            f"{what} {path} is inside the data set folder {data} being read; expected a file "
            "outside it (the input is never written to)"
        )
    if keys is not None and path.is_file() and not _header_starts_with(path, keys):
        raise UsageError(
            f"{what} {path} exists and is not an earlier rainmaker output (its first line does "
            f"not begin with {','.join(keys)}); refusing to replace it: choose another name or "
            "remove the file"
        )


def _header_starts_with(path: Path, keys: Sequence[str]) -> bool:
    """Whether the CSV at ``path`` is empty or its header's first fields are ``keys``."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head:
        return True  # an empty file holds nothing to lose
    first = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[0]
    fields = [f.strip().strip('"') for f in first.split(",")]
    return fields[: len(keys)] == list(keys)


def check_replaceable(
    target: Path,
    what: str,
    marker: str | tuple[str, ...] = RUN_FILE,
    output: str = "rainmaker plan",
) -> None:
    """Refuse, before any work, a folder that must not be replaced by a new output.

    A folder may be replaced when it does not exist, is empty, or holds an earlier output of
    the same kind (it has the ``marker`` file, or one of them: ``run.json`` for a plan).

    Raises:
        UsageError: ``target`` is a file, its parent cannot be created, or it is a folder with
            other content (exit status 2).
    """
    check_output_folder(target, what)
    markers = (marker,) if isinstance(marker, str) else marker
    if (
        target.is_dir()
        and any(target.iterdir())
        and not any((target / m).is_file() for m in markers)
    ):
        raise UsageError(
            f"{what} {target} is a folder that does not hold a {output} (no "
            f"{' or '.join(markers)}); refusing to replace it: choose an empty or new folder"
        )


def publish_replacing(staged: Path, target: Path) -> Path:
    """Put a complete staging folder at ``target``, replacing an earlier rainmaker output there.

    Used by ``rainmaker plan --out DIR``, where the user names the folder. An existing
    ``target`` is accepted only when it is empty or holds a previous output (a ``run.json``,
    :func:`check_replaceable`), and is then replaced whole (:func:`replace_folder`).

    Raises:
        UsageError: ``target`` is a file, or a folder with other content (exit status 2).
    """
    check_replaceable(target, "--out")
    return replace_folder(staged, target)


def replace_folder(staged: Path, target: Path) -> Path:
    """Put a complete staging folder at ``target``, replacing whatever folder is there.

    The old folder is renamed aside, the new one renamed in, and the old one deleted, so
    ``target`` is never a mix of two outputs and never half-written. Check ``target`` first
    (:func:`check_replaceable`): this replaces without asking.

    Returns:
        ``target``.
    """
    fsync_tree(staged)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.replace(staged, target)
    else:
        aside = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, aside)
        os.replace(staged, target)
        shutil.rmtree(aside, ignore_errors=True)
    _fsync_dir(target.parent)
    return target


@contextmanager
def cleaned_up(staged: Path) -> Iterator[Path]:
    """Yield the staging folder ``staged`` and remove what is left of it afterwards: nothing
    once a publish has moved it into place, a half-written folder when writing failed."""
    try:
        yield staged
    finally:
        shutil.rmtree(staged, ignore_errors=True)


@contextmanager
def replaced_whole(target: Path) -> Iterator[Path]:
    """A fresh staging folder beside ``target`` to write an output into; when the block ends
    without an error it replaces ``target`` whole (:func:`replace_folder`), and on an error it
    is removed and ``target`` stays as it was. Check ``target`` first: this replaces without
    asking (:func:`check_replaceable`)."""
    with cleaned_up(sibling_staging(target)) as staged:
        yield staged
        replace_folder(staged, target)


def sibling_staging(target: Path) -> Path:
    """A fresh, empty hidden folder beside ``target`` (same file system, so a rename moves it)."""
    staged = target.parent / f".{target.name}.staging-{uuid.uuid4().hex[:8]}"
    staged.mkdir(parents=True)
    return staged


def _file_in_the_way(path: Path) -> Path | None:
    """``path`` or its nearest existing parent when that is not a folder, else None."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def _read_run(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _fsync_dir(folder: Path) -> None:
    # directories can be fsynced on POSIX only; elsewhere the rename is all we can do
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
