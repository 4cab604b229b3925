"""Tests of rainmaker.app.outputs: atomic publication, revisions, staging clean-up and the lock."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rainmaker.app.outputs import (
    LOCK_FILE,
    LockHeld,
    all_revisions,
    check_output_file,
    check_output_folder,
    clear_staging,
    day_folder,
    list_revisions,
    new_staging,
    publish,
    publish_replacing,
    run_lock,
)
from rainmaker.errors import UsageError


def _staged(root: Path, content: str) -> Path:
    folder = new_staging(root)
    (folder / "run.json").write_text(json.dumps({"content": content}))
    (folder / "plan.csv").write_text(content)
    return folder


def test_publish_renames_the_whole_folder(tmp_path):
    staged = _staged(tmp_path, "a")
    final = day_folder(tmp_path, "2022-06-15") / "r1"
    assert publish(staged, final) == final
    assert not staged.exists()
    assert (final / "plan.csv").read_text() == "a"
    assert final.parent.name == "2022-06-15"


def test_publish_never_overwrites(tmp_path):
    final = day_folder(tmp_path, "2022-06-15") / "r1"
    publish(_staged(tmp_path, "a"), final)
    second = _staged(tmp_path, "b")
    with pytest.raises(FileExistsError):
        publish(second, final)
    assert (final / "plan.csv").read_text() == "a"
    assert second.exists()


def test_revisions_are_listed_in_numeric_order(tmp_path):
    for number in (1, 2, 10):
        publish(_staged(tmp_path, str(number)), day_folder(tmp_path, "2022-06-15") / f"r{number}")
    (day_folder(tmp_path, "2022-06-15") / "notes").mkdir()
    (day_folder(tmp_path, "2022-06-15") / "r3.txt").write_text("not a revision")
    revisions = list_revisions(tmp_path, "2022-06-15")
    assert [r.number for r in revisions] == [1, 2, 10]
    assert revisions[-1].run == {"content": "10"}
    assert list_revisions(tmp_path, "2022-06-16") == []


def test_all_revisions_skips_links_and_staging(tmp_path):
    for day, number in (("2022-06-14", 1), ("2022-06-15", 1), ("2022-06-15", 2)):
        publish(_staged(tmp_path, day), day_folder(tmp_path, day) / f"r{number}")
    (tmp_path / "latest").symlink_to("2022-06-15/r2")
    _staged(tmp_path, "half-written")
    found = [(r.path.parent.name, r.number) for r in all_revisions(tmp_path)]
    assert found == [("2022-06-14", 1), ("2022-06-15", 1), ("2022-06-15", 2)]
    assert all_revisions(tmp_path / "missing") == []


def test_clear_staging_removes_leftovers(tmp_path):
    leftover = _staged(tmp_path, "half")
    assert clear_staging(tmp_path) == [leftover]
    assert not leftover.exists()
    assert clear_staging(tmp_path / "missing") == []


def test_publish_replacing_swaps_an_earlier_plan(tmp_path):
    target = tmp_path / "out"
    publish_replacing(_staged(tmp_path, "first"), target)
    publish_replacing(_staged(tmp_path, "second"), target)
    assert (target / "plan.csv").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []


def test_publish_replacing_refuses_foreign_content(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "thesis.docx").write_text("precious")
    with pytest.raises(UsageError, match="does not hold a rainmaker plan"):
        publish_replacing(_staged(tmp_path, "x"), target)
    assert (target / "thesis.docx").read_text() == "precious"
    file_target = tmp_path / "a-file"
    file_target.write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        publish_replacing(_staged(tmp_path, "x"), file_target)


def test_lock_held_by_another_process_fails_at_once(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from rainmaker.app.outputs import run_lock\n"
            "with run_lock(Path(sys.argv[1])):\n"
            "    print('held', flush=True)\n"
            "    time.sleep(60)\n",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.perf_counter()
        with (
            pytest.raises(LockHeld, match="another rainmaker run holds the lock") as caught,
            run_lock(tmp_path),
        ):
            pass
        assert caught.value.exit_code == 3
        assert time.perf_counter() - started < 5
    finally:
        holder.kill()
        holder.wait()
    # the lock dies with its process: a killed run never blocks the next one
    with run_lock(tmp_path) as path:
        assert path == tmp_path / LOCK_FILE


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux's /proc")
def test_a_folder_nothing_can_be_created_in_is_refused_before_any_work(tmp_path):
    """Nothing can be created in /proc, even by root: the commands did their work, then failed
    to write it (exit 1). A command that only reads the folder (status) does not ask."""
    for check in (
        lambda: check_output_folder(Path("/proc/rainmaker/out"), "--out"),
        lambda: check_output_file(Path("/proc/forecast.csv"), "--out"),
    ):
        with pytest.raises(UsageError, match="cannot write in /proc"):
            check()
    check_output_folder(Path("/proc/rainmaker/runs"), "output_root", writable=False)
    check_output_folder(tmp_path / "new" / "out", "--out")
    check_output_file(tmp_path / "forecast.csv", "--out")
    check_output_file(Path("/dev/null"), "--out")  # written to, never renamed over
    assert list(tmp_path.iterdir()) == []  # the probe is gone
