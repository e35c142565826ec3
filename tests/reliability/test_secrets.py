"""No password ever leaves the places it must be: full flows, then a search for it everywhere.

A lab scenario gets a login password made fresh for the run (a uuid, so a hit cannot be a
coincidence) and the guest resolution variant gets a guest password of its own. The command
line (check, apply with the guest variant, apply and undo with a shutdown, a wrong password,
journal) and the wizard (connect with "remember", pick, check, read the log, choose, confirm,
apply, done) then run against it. Afterwards every file the product wrote (its base folder:
settings, log file, journal, pinned certificates, anything else), everything it printed, every
log record, the texts of every widget, the command line and environment of the lab process it
started, and this process's environment are searched for either secret, in UTF-8, UTF-16 and
base64: zero hits.

Not searched: the scenario file itself, which holds the lab's password by design (it is the
lab's own account, written by the trainer, like a vCenter's user database), and the OS keyring,
where "remember" is meant to put it.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apply import SCENARIO
from tests.helpers.lab import cli_login, running_lab
from tests.reliability.figures import record
from wizard import cli
from wizard.lab.process import LabProcess

pytestmark = [pytest.mark.lab, pytest.mark.slow]

VM = "Dual W7"
GUEST_VM = "Single W7"  # one display: the guest variant of lower_resolution is offered


def secret(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"


def forms(value: str) -> list[bytes]:
    """The ways a secret could be written down: plain, UTF-16 (Windows), base64 (HTTP auth)."""
    raw = value.encode()
    return [raw, value.encode("utf-16-le"), base64.b64encode(raw), base64.b64encode(raw)[:-4]]


class Search:
    """Collects everything searched and every hit."""

    def __init__(self, *secrets: str) -> None:
        self.needles = [(s, f) for s in secrets for f in forms(s)]
        self.places = 0
        self.hits: list[str] = []

    def text(self, where: str, data: bytes | str) -> None:
        blob = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        self.places += 1
        for value, form in self.needles:
            if form in blob:
                self.hits.append(f"{where}: {value[:6]}… found")

    def tree(self, root: Path, skip: set[Path]) -> int:
        files = 0
        for path in sorted(root.rglob("*")):
            if path.is_file() and path not in skip:
                self.text(str(path), path.read_bytes())
                files += 1
        return files

    def process(self, pid: int) -> None:
        for part in ("cmdline", "environ"):
            self.text(f"/proc/{pid}/{part}", Path(f"/proc/{pid}/{part}").read_bytes())

    def records(self, records: list[logging.LogRecord]) -> None:
        for r in records:
            self.text(f"log record {r.name}", f"{r.getMessage()} {r.args!r} {r.exc_text or ''}")


def lab_scenario(password: str) -> dict[str, Any]:
    scenario = dict(SCENARIO)
    scenario["login"] = {"user": "helpdesk@lab.local", "password": password}
    return scenario


@contextlib.contextmanager
def product_lab(scenario_dir: Path, password: str, binary: Path) -> Iterator[LabProcess]:
    """The lab, started by the product's own :class:`LabProcess`."""
    with running_lab(lab_scenario(password), scenario_dir, binary) as lab:
        yield lab


def run_cli(argv: list[str], stdin: str) -> tuple[int, str, str]:
    """``checkpoint-wizard ARGV`` in this process, with its own stdin, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(argv)
    finally:
        sys.stdin = old_stdin
    return code, out.getvalue(), err.getvalue()


def test_command_line_flows_write_no_secret(
    lab_binary_path: Path,
    tmp_path: Path,
    hermetic_basedir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    password, guest_password = secret("Pw"), secret("Gp")
    caplog.set_level(logging.DEBUG)
    scenario_dir = tmp_path / "trainer"
    scenario_dir.mkdir()
    search = Search(password, guest_password)
    outputs: list[tuple[str, int, str, str]] = []
    with product_lab(scenario_dir, password, lab_binary_path) as lab:
        info = lab.info
        assert lab.pid is not None
        search.process(lab.pid)
        base = cli_login(info)

        def run(name: str, argv: list[str], stdin: str) -> tuple[int, str, str]:
            code, out, err = run_cli(argv, stdin)
            outputs.append((name, code, out, err))
            return code, out, err

        run("check", ["-v", "check", *base, "--vm", VM, "--json", "--read-log"], password + "\n")
        code, out, err = run(
            "apply guest",
            [
                "-v",
                "apply",
                *base,
                "--vm",
                GUEST_VM,
                "--remedy",
                "lower_resolution",
                "--variant",
                "guest",
                "--guest-user",
                "trainee",
                "--guest-password-stdin",
                "--yes",
            ],
            f"{password}\n{guest_password}\n",
        )
        assert code == 0, out + err
        code, out, err = run(
            "apply",
            ["apply", *base, "--vm", VM, "--remedy", "raise_buffer", "--allow-shutdown", "--yes"],
            password + "\n",
        )
        assert code == 0, out + err
        entry = out.rsplit("Journal entry: ", 1)[1].split()[0]
        code, out, err = run(
            "undo", ["undo", *base, entry, "--allow-shutdown", "--yes"], password + "\n"
        )
        assert code == 0, out + err
        code, _, err = run("wrong password", ["check", *base, "--vm", VM], password + "-x\n")
        assert code == cli.EXIT_CONNECTION
        assert "refused the user name or password" in err
        run("journal", ["journal"], "")
        run("journal json", ["journal", "--json"], "")
        search.process(lab.pid)
    for name, _code, out, err in outputs:
        search.text(f"stdout of {name}", out)
        search.text(f"stderr of {name}", err)
    files = search.tree(hermetic_basedir, skip=set())
    search.records(caplog.records)
    search.text("this process's environment", repr(dict(os.environ)))
    control = Search(password)
    control.tree(scenario_dir, skip=set())
    assert control.hits, "the search must find the password where it is by design"
    assert files >= 1  # the journal at least
    assert (hermetic_basedir / "data" / "journal.jsonl").exists()
    record("secrets", flow="command line", places=search.places, files=files, hits=len(search.hits))
    assert not search.hits, search.hits
