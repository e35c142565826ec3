"""Input the command line used to crash on, or took without a word: each ends in a clear message.

No lab here: every case is refused before anything is sent to a vCenter. ``--vcenter`` names a
closed port on 127.0.0.1, so a refusal that came too late shows as exit 3 ("refused the
connection") instead of the exit code and message asked for.
"""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.terminal import CTRL_D, cli_env, needs_terminal, run_on_terminal
from wizard import cli, paths
from wizard.vsphere.session import Session
from wizard.vsphere.tls import MemoryPinStore, TrustPolicy


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: io.TextIOBase | None = None,
) -> tuple[int, str, str]:
    """``checkpoint-wizard ARGV`` in this process; argparse's own exits give their code."""
    monkeypatch.setattr("sys.stdin", stdin if stdin is not None else io.StringIO(""))
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clear(err: str) -> None:
    """One message of ours, and no traceback."""
    assert "Traceback" not in err
    assert err.startswith("checkpoint-wizard"), err


def connection(port: int) -> list[str]:
    return ["--vcenter", f"127.0.0.1:{port}", "--user", "helpdesk@vsphere.local"]


# ------------------------------------------------------------------------- vCenter address


@pytest.mark.parametrize(
    "address", ["a..b", ".example.com", "vc01." + "x" * 64 + ".corp", "vc01..corp:8443"]
)
def test_an_address_dns_cannot_spell_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], address: str
) -> None:
    argv = ["check", "--vcenter", address, "--user", "u", "--password-stdin", "--vm", "x"]
    code, out, err = run(monkeypatch, capsys, argv, io.StringIO("pw\n"))
    assert code == cli.EXIT_USAGE
    assert_clear(err)
    assert address in err
    assert "e.g. vc01.corp.local" in err
    assert out == ""


def test_a_bad_address_is_named_before_a_password_is_asked_for(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", "--vcenter", "a..b", "--user", "u", "--vm", "x"]  # no password anywhere
    code, _, err = run(monkeypatch, capsys, argv)
    assert code == cli.EXIT_USAGE
    assert_clear(err)
    assert "'a..b'" in err
    assert "password" not in err


# ------------------------------------------------------------------------------- passwords


@pytest.mark.parametrize("errors", ["strict", "surrogateescape"])
def test_a_password_that_is_not_utf8_is_refused_before_connecting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], errors: str
) -> None:
    # A UTF-8 locale reads stdin strictly (UnicodeDecodeError); the C locale with escapes
    # (the bytes would be sent on and crash in the SOAP encoder).
    raw = b"\xffSecr3t-\xfePw\n"
    stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", errors=errors)
    argv = ["check", *connection(closed_port()), "--password-stdin", "--vm", "x"]
    code, _, err = run(monkeypatch, capsys, argv, stdin)
    assert code == cli.EXIT_USAGE, err
    assert_clear(err)
    assert "UTF-8" in err
    assert "standard input" in err
    assert "Secr3t" not in err


def test_a_password_that_is_not_utf8_is_refused_by_the_real_program(tmp_path: Path) -> None:
    # UTF-8 mode reads standard input as Linux's C.UTF-8 locale does (bytes that are not UTF-8
    # come through as escapes), on every system; Windows would otherwise read it as cp1252.
    args = ["check", *connection(closed_port()), "--password-stdin", "--vm", "x"]
    proc = subprocess.run(
        [sys.executable, "-m", "wizard", *args],
        input=b"\xff\xfe\n",
        capture_output=True,
        env=cli_env(tmp_path, PYTHONUTF8="1"),
        timeout=60,
        check=False,
    )
    err = proc.stderr.decode("utf-8", errors="replace")
    assert proc.returncode == cli.EXIT_USAGE, err
    assert_clear(err)
    assert "UTF-8" in err


def test_an_empty_password_is_refused_before_connecting() -> None:
    from wizard.vsphere.errors import EmptyPassword

    with pytest.raises(EmptyPassword) as refused:
        Session.connect(
            f"127.0.0.1:{closed_port()}",
            "helpdesk@vsphere.local",
            "",
            trust=TrustPolicy(MemoryPinStore()),
            timeout=5.0,
        )
    assert "helpdesk@vsphere.local" in refused.value.message
    assert "password" in refused.value.next_step


def test_an_empty_password_on_the_command_line_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for stdin in ("\n", ""):
        argv = ["check", *connection(closed_port()), "--password-stdin", "--vm", "x"]
        code, _, err = run(monkeypatch, capsys, argv, io.StringIO(stdin))
        assert code == cli.EXIT_USAGE, err
        assert_clear(err)
        assert "No password" in err
        assert "--password-stdin" in err


@pytest.mark.slow
@needs_terminal
def test_ctrl_d_at_the_password_prompt_ends_cleanly(tmp_path: Path) -> None:
    argv = ["check", *connection(closed_port()), "--vm", "x"]
    code, shown = run_on_terminal(argv, [("Password for", CTRL_D)], env=cli_env(tmp_path))
    assert code == cli.EXIT_USAGE, shown
    assert "Traceback" not in shown
    assert "no password was typed" in shown
    assert "nothing was changed" in shown


# ----------------------------------------------------------------------------- data folder


@pytest.fixture
def blocked_basedir(tmp_path: Path) -> Path:
    """The product's folders under a regular file: none of them can be created."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n", encoding="utf-8")
    base = blocker / "wizard"
    paths.set_basedir(base)
    return blocker


@pytest.mark.parametrize(
    "argv",
    [
        ["journal"],
        ["journal", "--json"],
        ["check", "--vm", "x"],
        ["apply", "--vm", "x", "--remedy", "raise_buffer", "--yes"],
        ["undo", "0123456789ab", "--yes"],
    ],
)
def test_a_data_folder_that_cannot_be_created_is_named(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    blocked_basedir: Path,
    argv: list[str],
) -> None:
    if argv[0] != "journal":
        argv = [*argv, *connection(closed_port()), "--password-stdin"]
    code, out, err = run(monkeypatch, capsys, argv, io.StringIO("pw\n"))
    assert code == cli.EXIT_USAGE, err
    assert_clear(err)
    assert str(blocked_basedir / "wizard" / "data") in err
    assert f"{blocked_basedir} is a file" in err
    assert "CHECKPOINT_WIZARD_BASEDIR" in err
    if argv[0] in ("apply", "undo"):
        assert "Nothing was changed" in err
    assert out == ""


def test_the_folder_error_names_the_file_in_the_way(blocked_basedir: Path) -> None:
    with pytest.raises(paths.FolderError) as refused:
        paths.data_dir()
    assert refused.value.path == blocked_basedir / "wizard" / "data"
    assert isinstance(refused.value, OSError)  # callers that catch OSError still do


# ------------------------------------------------------------------------------------ tour


@pytest.mark.parametrize("scale", ["0", "-1", "nan", "inf", "4.5", "0.25", "big"])
def test_tour_refuses_a_scale_out_of_range(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    scale: str,
) -> None:
    argv = ["tour", "--scenario", "dual-screen-win7", "--vm", "HD-W7-042"]
    argv += ["--out", str(tmp_path / "shots"), "--scale", "1", "--scale", scale]
    code, out, err = run(monkeypatch, capsys, argv)
    assert code == cli.EXIT_USAGE
    assert "Traceback" not in err
    assert "from 0.5 to 4" in err
    assert out == ""
    assert not (tmp_path / "shots").exists()  # refused before anything started


@pytest.mark.parametrize("vm", ["", "   "])
def test_tour_refuses_an_empty_vm(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, vm: str
) -> None:
    argv = ["tour", "--scenario", "dual-screen-win7", "--vm", vm, "--out", str(tmp_path)]
    code, _, err = run(monkeypatch, capsys, argv)
    assert code == cli.EXIT_USAGE
    assert "Traceback" not in err
    assert "--vm" in err


def test_tour_refuses_an_out_folder_it_cannot_create(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    out_dir = blocker / "shots"
    argv = ["tour", "--scenario", "dual-screen-win7", "--vm", "HD-W7-042", "--out", str(out_dir)]
    code, out, err = run(monkeypatch, capsys, argv)
    assert code == cli.EXIT_USAGE, err
    assert_clear(err)
    assert str(out_dir) in err
    assert "--out" in err
    assert out == ""
