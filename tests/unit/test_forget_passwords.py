"""``checkpoint-wizard forget-passwords``: every remembered password leaves the OS store.

The OS store is the test-wide in-memory keyring (tests/conftest.py), through the real
``keyring`` API; the settings file is the one the wizard writes (``GuiSettings``).
"""

from __future__ import annotations

import io

import keyring
import pytest

from wizard import cli, credentials
from wizard.cli import forget
from wizard.ui.settings import GuiSettings


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = cli.main(["forget-passwords", "--yes"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_every_remembered_password_is_forgotten(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = GuiSettings()
    settings.add_recent("vc01.corp.local", "anna@vsphere.local", remember=True)
    settings.add_recent("vc02.corp.local:8443", "ben@corp", remember=True)
    settings.add_recent("vc03.corp.local", "cleo@corp", remember=False)
    credentials.save_password("vc01.corp.local", "anna@vsphere.local", "pw-1")
    credentials.save_password("vc02.corp.local:8443", "ben@corp", "pw-2")
    keyring.set_password("unrelated-app", "anna", "keep me")

    code, out = run(monkeypatch, capsys)

    assert code == 0
    assert "Forgot the password of anna@vsphere.local on vc01.corp.local." in out
    assert "Forgot the password of ben@corp on vc02.corp.local:8443." in out
    assert credentials.load_password("vc01.corp.local", "anna@vsphere.local") is None
    assert credentials.load_password("vc02.corp.local:8443", "ben@corp") is None
    assert keyring.get_password("unrelated-app", "anna") == "keep me"
    # The vCenters stay offered; none is marked as remembered any more.
    recent = GuiSettings().recent()
    assert [r.endpoint for r in recent] == [
        "vc03.corp.local",
        "vc02.corp.local:8443",
        "vc01.corp.local",
    ]
    assert not any(r.remember for r in recent)


def test_nothing_to_forget_is_no_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(monkeypatch, capsys)
    assert code == 0
    assert "Nothing to forget" in out


def test_a_password_the_store_keeps_is_reported_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    GuiSettings().add_recent("vc01.corp.local", "anna", remember=True)
    credentials.save_password("vc01.corp.local", "anna", "pw")
    # A store that refuses deletes (a locked vault): the only stand-in here, the in-memory
    # keyring cannot refuse by itself.
    monkeypatch.setattr(keyring, "delete_password", lambda *_: None)

    code, out = run(monkeypatch, capsys)

    assert code == forget.EXIT_FAILED
    assert "kept the password of anna on vc01.corp.local" in out
    assert "checkpoint-wizard:vc01.corp.local" in out
    assert GuiSettings().recent()[0].remember  # still true: the password is still there


def test_a_damaged_settings_file_is_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    forget.settings_file().write_text("{not json", encoding="utf-8")
    code, out = run(monkeypatch, capsys)
    assert code == forget.EXIT_USAGE
    assert "cannot be read" in out
    assert "by hand" in out
