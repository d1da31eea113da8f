"""Every `occupipe` command the README and docs/ show runs, as shown, against the demo sample.

Each code block runs as a reader types it (its `occupipe` lines in order, through bash, in a
copy of a checkout whose warehouse holds two releases of data/raw); each inline command runs
alone. Placeholders and the example hosts get real values here: a SeaweedFS bucket for
`s3://`, a Dask cluster for `--cluster`, a local copy of the API for `https://`, a Prefect
test server for PREFECT_API_URL. Commands that need something `make setup` does not install
are checked apart: the line that shows them says how to get it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from occupipe.core.settings import PROJECT_DIR
from pipelines.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from tests.doc_pages import PAGES, Shown, block_lines, find_shown_commands, read_page
from tests.helpers import DEMO, SAMPLE, SOULS, build, copy_records
from tests.http_server import serve
from tests.servers import S3Server, upload

BIN = Path(sys.executable).parent  # the environment's `occupipe`, `prefect`, `dask`
RELEASE_ID = re.compile(r"\b\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{4}\b")
PLACEHOLDER = re.compile(r"<[a-z]+>|\[[A-Z]+\]|(?<![\w$=/-])[A-Z]{2,}(?![\w=])")


def typed(shown: Shown) -> tuple[str, ...]:
    """What a reader types for a shown command: its lines without comments or extra spaces."""
    return tuple(" ".join(line.split(" #", 1)[0].split()) for line in shown.lines)


# the same command shown on several pages runs once
SHOWN = list({typed(s): s for page in PAGES for s in find_shown_commands(page)}.values())
OPTION_MENTION = re.compile(r"--(source|export|release|out|tables|format|keep)$")


@dataclass
class Workspace:
    """A checkout's folder as a reader has it after `make run` twice: data/raw, ../shared,
    and a warehouse of two releases (`first` of 115 records, then `current` of 120)."""

    folder: Path
    first: str
    current: str
    env: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The workspace, built once for the module (copied for each command shown)."""
    root = tmp_path_factory.mktemp("documented")
    folder = root / "checkout"
    raw = Path(shutil.copytree(DEMO, folder / "data" / "raw"))
    (root / "shared").symlink_to(PROJECT_DIR.parent / "shared", target_is_directory=True)
    warehouse = folder / "data" / "warehouse"
    first = build(copy_records(root / "first", sorted(raw.glob("*.json"))[:-5]), warehouse)
    current = build(raw, warehouse)
    assert first.release_id and current.release_id
    return Workspace(folder, first.release_id, current.release_id)


@pytest.fixture
def workspace(prepared: Workspace, tmp_path: Path) -> Workspace:
    """A copy of the prepared workspace of the test's own, with the environment of a shell."""
    root = tmp_path / "copy"
    folder = Path(shutil.copytree(prepared.folder, root / "checkout", symlinks=True))
    (root / "shared").symlink_to(PROJECT_DIR.parent / "shared", target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCCUPIPE_WAREHOUSE")}
    env.pop("OCCUPIPE_SOURCE", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    return Workspace(folder, prepared.first, prepared.current, env)


def substitutions(space: Workspace) -> list[tuple[str, str]]:
    """Each placeholder or example value shown, and what it stands for in this workspace."""
    return [
        ("[FROM] [TO]", f"{space.first} {space.current}"),
        ("<id>", space.first),
        ("<command>", "run"),
        ('"SQL"', '"select 1"'),
        ('"..."', '"select 1"'),
        ("report NAME", "report coverage"),
        ("--out DIR", "--out exports/shown"),
        ("--export DIR", "--export exports/shown"),
        ("--keep N", "--keep 1"),
        ("/tmp/corpus", "corpus"),
        ("s3://BUCKET/PREFIX", "s3://atlas/souls"),
        *space.values.items(),
    ]


def fill_in(line: str, space: Workspace) -> str:
    """A shown line with real values; a placeholder this test knows no value for fails it."""
    line = RELEASE_ID.sub(space.first, line)
    for shown, value in substitutions(space):
        line = line.replace(shown, value)
    code = line.split(" #", 1)[0]
    unknown = PLACEHOLDER.findall(re.sub(r"'[^']*'|\"[^\"]*\"", "", code))
    assert not unknown, f"no value for {unknown} in {line!r}: give this test one"
    return line


def bash(line: str, space: Workspace, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run one shell line in the workspace, as a reader's shell would (a line that names an
    AWS_PROFILE gets its keys from the profile alone)."""
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if "AWS_PROFILE=" in line else ()
    return subprocess.run(
        ["bash", "-c", line],
        cwd=space.folder,
        env={name: value for name, value in space.env.items() if name not in keys},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def is_option_mention(line: str) -> bool:
    """`occupipe run --source` in prose names an option; it is not a command to run."""
    return bool(OPTION_MENTION.search(line.strip()))


def expected_exits(line: str, server_running: bool) -> set[int]:
    """What the documented command may exit with here. `server status` says 1 with no server;
    a command's bare name in prose (`occupipe export` takes --out) may be a usage error."""
    if re.fullmatch(r"occupipe [a-z]+", line):
        return {EXIT_OK, EXIT_USAGE}
    return {EXIT_FAILED if " server status" in line and not server_running else EXIT_OK}


def run_shown_line(line: str, space: Workspace, server_running: bool) -> None:
    """Run one line and check it did what the docs promise: its exit code, nothing on stderr
    (but with --verbose), no traceback, and the files it names written."""
    if " schedule " in line:
        return serve_schedule_until_interrupted(line, space)
    checked = re.search(r"verify --export (\S+)", line)
    if checked and not (space.folder / checked.group(1)).exists():  # the export it checks
        assert bash(f"occupipe export --out {checked.group(1)}", space).returncode == 0
    done = bash(line, space)
    said = f"{line}\nexit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode in expected_exits(line, server_running), said
    assert "Traceback" not in done.stdout + done.stderr, said
    if "--verbose" not in line and done.returncode == EXIT_OK:
        assert done.stderr == "", said
    for written in re.findall(r"(?:--out|--html|>) (\S+\.\w+)\b", line):
        assert (space.folder / written).stat().st_size > 0, f"{line}: {written} not written"


def serve_schedule_until_interrupted(line: str, space: Workspace) -> None:
    """`occupipe schedule` serves until Ctrl-C: wait until it serves, then interrupt it."""
    log = space.folder / "schedule.out"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {line}"], cwd=space.folder, env=space.env, stdout=out,
            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while "being served" not in log.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, f"{line}: not serving after 90 s"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    said = f"{line}\nstdout:\n{log.read_text()}\nstderr:\n{stderr}"
    assert process.returncode == EXIT_INTERRUPTED, said
    assert "stopped serving occupipe-build" in log.read_text(), said
    assert "Traceback" not in stderr, said


def needs(shown: Shown) -> set[str]:
    """The servers a shown command needs beside the workspace."""
    text = " ".join(shown.lines)
    wanted = {"s3"} if "s3://" in text or "AWS_" in text else set()
    wanted |= {"dask"} if "--cluster" in text else set()
    wanted |= {"http"} if "https://" in text else set()
    return wanted | ({"prefect"} if "PREFECT_API_URL" in text or " schedule " in text else set())


@contextmanager
def give_s3(request: pytest.FixtureRequest, space: Workspace) -> Iterator[None]:
    """The test S3 server, with the buckets the docs name: `analytics` and `atlas/souls`."""
    import s3fs

    server: S3Server = request.getfixturevalue("s3_server")
    space.env.update(server.env)
    store = s3fs.S3FileSystem(skip_instance_cache=True)
    if not store.exists("analytics"):
        store.mkdir("analytics")
    if not store.exists("atlas/souls"):
        upload(server, SOULS, "souls", bucket="atlas")
    credentials = space.folder.parent / "aws-credentials"
    credentials.write_text(
        "[atlas]\naws_access_key_id = {AWS_ACCESS_KEY_ID}\n"
        "aws_secret_access_key = {AWS_SECRET_ACCESS_KEY}\n".format(**server.env)
    )
    space.env["AWS_SHARED_CREDENTIALS_FILE"] = str(credentials)
    space.values["https://s3.example.org"] = server.endpoint
    yield


@contextmanager
def give_http(request: pytest.FixtureRequest, space: Workspace) -> Iterator[None]:
    """A local copy of the SOUL Atlas API for the API's address."""
    with serve(SAMPLE) as server:
        space.values["https://soul-atlas.github.io/api"] = server.base_url
        yield


@contextmanager
def give_dask(request: pytest.FixtureRequest, space: Workspace) -> Iterator[None]:
    """The test Dask cluster for the scheduler's address."""
    space.values["tcp://SCHEDULER:8786"] = request.getfixturevalue("dask_cluster").address
    yield


@contextmanager
def give_prefect(request: pytest.FixtureRequest, space: Workspace) -> Iterator[None]:
    """The session's Prefect test server, for the lines that name one."""
    request.getfixturevalue("prefect_server")
    from prefect.settings import PREFECT_API_URL

    url = str(PREFECT_API_URL.value())
    space.values["http://127.0.0.1:4200/api"] = url
    space.env["PREFECT_API_URL"] = url
    yield


GIVERS: dict[str, Callable[[pytest.FixtureRequest, Workspace], AbstractContextManager[None]]] = {
    "s3": give_s3, "http": give_http, "dask": give_dask, "prefect": give_prefect,
}  # fmt: skip


def test_the_docs_show_commands_to_run() -> None:
    assert len(SHOWN) > 40


@pytest.mark.slow
@pytest.mark.parametrize("shown", SHOWN, ids=lambda s: s.where[:80])
def test_each_command_shown_runs_as_shown(
    shown: Shown, workspace: Workspace, request: pytest.FixtureRequest
) -> None:
    server_running = False
    with ExitStack() as stack:
        for name in sorted(needs(shown)):
            stack.enter_context(GIVERS[name](request, workspace))
        try:
            for line in shown.lines:
                if is_option_mention(line):
                    continue
                run_shown_line(fill_in(line, workspace), workspace, server_running)
                server_running = (server_running or " server start" in line) and (
                    " server stop" not in line
                )
        finally:
            if server_running:
                bash("occupipe server stop", workspace)


def programs_shown() -> list[tuple[str, str]]:
    """Each shell line of the docs' sh blocks that runs a program, with the program's name."""
    found = []
    for page in PAGES:
        for lang, block in re.findall(r"^```([^\n]*)\n(.*?)^```", read_page(page), re.S | re.M):
            if lang.strip() not in ("sh", "bash", "shell", "console"):
                continue
            pending = ""
            for line in block_lines(block):
                pending = f"{pending}\n{line}" if pending else line
                try:
                    words = shlex.split(pending.lstrip("$ "), comments=True)
                except ValueError:  # a quoted string goes on to the next line
                    continue
                words = [w for w in words if not re.match(r"^[A-Z_]+=", w)]
                if words:
                    found.append((f"{page.relative_to(PROJECT_DIR)}: {pending.strip()}", words[0]))
                pending = ""
    return found


SHELL_BUILTINS = {"export", "cd", "make", "uv", "python", "git"}


@pytest.mark.parametrize("where, program", programs_shown(), ids=lambda v: str(v)[:80])
def test_a_program_make_setup_does_not_install_says_how_to_get_it(where: str, program: str) -> None:
    if program in SHELL_BUILTINS or (BIN / program).exists():
        return
    assert "make setup" in where and re.search(r"https?://|pip install|apt", where), (
        f"{where}: `{program}` is not installed by make setup; say how to get it on that line"
    )
