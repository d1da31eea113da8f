"""Files a run cannot read whole (unreadable, vanished, growing, pipes); faults fail it safely."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from occupipe.core.rejection import SourceError
from occupipe.ingest import cache as cache_module
from occupipe.ingest.batch import read_input, read_to_end
from occupipe.runner import finish as finish_module
from occupipe.warehouse import transform as transform_module
from tests.helpers import build, copy_sample, query, variant, write


def test_an_unreadable_file_fails_the_run_with_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = copy_sample(tmp_path / "in", 5)

    os_open = os.open

    def refuse_one(path: str, flags: int, *args: Any, **options: Any) -> int:
        if Path(path).name == "absurdist.json":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return os_open(path, flags, *args, **options)

    # as root, file permissions do not stop a read: `os.open` refuses instead
    monkeypatch.setattr(os, "open", refuse_one)
    with pytest.raises(SourceError, match=r"cannot read .*absurdist.json: Permission denied"):
        build(source, tmp_path / "wh")


@pytest.mark.parametrize(
    ("module", "name", "error"),
    [
        (os, "replace", OSError(errno.EROFS, "Read-only file system")),
        (finish_module, "publish_tables", OSError(errno.ENOSPC, "No space left on device")),
        (cache_module, "store_rejected_bytes", OSError(errno.ENOSPC, "No space left")),
        (transform_module, "measure_betweenness", KeyboardInterrupt()),
    ],
)
def test_environment_faults_leave_the_previous_warehouse_untouched_and_queryable(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    module: object,
    name: str,
    error: BaseException,
) -> None:
    source = copy_sample(tmp_path / "in", 5)
    warehouse = tmp_path / "wh"
    build(source, warehouse)
    before = (warehouse / "occupations.duckdb").read_bytes()
    write(source, {"extra.json": variant("extra")})

    def broken(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(module, name, broken)
    with pytest.raises(type(error)):
        build(source, warehouse)
    monkeypatch.undo()
    assert (warehouse / "occupations.duckdb").read_bytes() == before
    assert query(warehouse, "select count(*) from occupations") == [(5,)]
    assert list((warehouse / ".build").iterdir()) == []


def test_a_broken_link_fails_the_run_instead_of_vanishing(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 3)
    (source / "gone.json").symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(SourceError, match=r"cannot read .*gone.json"):
        build(source, tmp_path / "wh")


@pytest.mark.parametrize(
    ("content", "stated_size"),
    [
        (b"", 0),
        (b'{"slug": "a"}', 13),  # the size it was found with
        (b'{"slug": "a"}', 5),  # grown since its size was taken
        (b'{"slug": "a"}', 40),  # shrunk since
        (bytes(range(256)) * 9000, 1000),  # grown past one read's worth
    ],
)
def test_a_file_is_read_whole_whatever_its_size_was_when_found(
    tmp_path: Path, content: bytes, stated_size: int
) -> None:
    path = tmp_path / "record.json"
    path.write_bytes(content)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert read_to_end(fd, stated_size) == content
    finally:
        os.close(fd)


def test_a_named_pipe_called_like_a_record_fails_the_run_at_once(tmp_path: Path) -> None:
    source = copy_sample(tmp_path / "in", 3)
    os.mkfifo(source / "pipe.json")
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_input(source / "pipe.json")
        except SourceError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)  # a hang would not stall the suite
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a named pipe waited for a writer"
    assert [str(e) for e in outcome] == [f"cannot read {source / 'pipe.json'}: not a regular file"]
    with pytest.raises(SourceError, match=r"cannot read .*pipe.json: not a regular file"):
        build(source, tmp_path / "wh")
