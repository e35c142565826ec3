"""Input the command line used to crash on, or took without a word: each ends in a clear message.

No lab here: every case is refused before anything is sent to a vCenter. ``--vcenter`` names a
closed port on 127.0.0.1, so a refusal that came too late shows as exit 3 ("refused the
connection") instead of the exit code and message asked for.
"""

from __future__ import annotations

import io
import socket

import pytest

from wizard import cli


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
