"""The Windows deliveries run under Wine: the installer and the lab ``.exe``.

What is real and what stands in:

- the installer is the real NSIS script (``packaging/windows/installer.nsi``) compiled by
  makensis, run under Debian's Wine with ``/S``, exactly the switches an IT department uses;
- the lab inside it is the real cross-compiled ``checkpoint-lab.exe``; after installing, the
  product on Linux drives the *installed* copy under Wine through a check and an apply;
- the frozen program is a stand-in (a small Go program built for Windows, written below): a
  Windows Python cannot be frozen on Linux. It answers ``--selftest`` and writes down each call,
  so the uninstaller's ``forget-passwords`` call is seen. The real frozen program is installed
  and uninstalled by ``.github/workflows/windows.yml`` on a Windows runner, with the same steps.

Wine runs everything as one user with full rights, so "no admin rights asked for" is proven by
what the installer asks Windows for (its manifest says ``asInvoker``) and by what it touches
(nothing under Program Files or HKLM).

These tests are slow (a Wine prefix is created once, about 20 s to a minute): they run in the
full ``packaging/build.sh`` (which sets ``CHECKPOINT_WIZARD_WINE=1``), not in ``--quick`` nor in
``packaging/dev.sh test``. Each step's time goes to ``build/wine/results.txt``, which build.sh
prints.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import wizard
from tests.helpers.apply import SCENARIO
from tests.helpers.lab import running_lab
from wizard import cli

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = ROOT / "packaging" / "windows" / "installer.nsi"
WORK = ROOT / "build" / "wine"
RESULTS = WORK / "results.txt"
OPT_IN = "CHECKPOINT_WIZARD_WINE"
LAB_EXE_ENV = "CHECKPOINT_WIZARD_LAB_EXE"
PRODUCT = "Checkpoint Wizard"
KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\CheckpointWizard"
MACHINE_KEY = r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\CheckpointWizard"
OLD_VERSION = "0.0.9"
WINE_PACKAGES = "dpkg --add-architecture i386 && apt-get install wine wine64 wine32:i386"

# The frozen program's stand-in: answers like the real one where the installer depends on it.
STANDIN_GO = """\
package main

import (
\t"os"
\t"path/filepath"
\t"strings"
)

func main() {
\tlog := filepath.Join(os.Getenv("TEMP"), "checkpoint-wizard-standin.log")
\tf, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
\tif err == nil {
\t\tf.WriteString(filepath.Base(os.Args[0]) + " " + strings.Join(os.Args[1:], " ") + "\\n")
\t\tf.Close()
\t}
}
"""

pytestmark = pytest.mark.lab


def _missing() -> str | None:
    """Why the Wine proof cannot run here, or None."""
    if shutil.which("wine") is None:
        return f"no wine on PATH: install Debian's Wine ({WINE_PACKAGES})"
    if not Path("/usr/lib/wine/wine").exists() and shutil.which("wine32") is None:
        return f"no 32-bit Wine (the NSIS installer is a 32-bit program): {WINE_PACKAGES}"
    if shutil.which("makensis") is None:
        return "no makensis: apt-get install nsis"
    if shutil.which("go") is None:
        return "no Go toolchain for the Windows builds: apt-get install golang-go"
    if os.environ.get(OPT_IN) != "1":
        return (
            f"the Wine proof runs in the full packaging/build.sh; set {OPT_IN}=1 to run it "
            "here (it creates a Wine prefix under build/wine)"
        )
    return None


def record(step: str, seconds: float, detail: str = "") -> None:
    """One line of build/wine/results.txt: what passed and how long it took."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(f"  {step:<52} {seconds:6.1f} s  {detail}\n".rstrip() + "\n")


@dataclass
class Wine:
    """One Wine prefix and the Windows folders inside it."""

    prefix: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
        env.update(
            WINEPREFIX=str(self.prefix),
            WINEDEBUG="-all",
            # No Mono or Gecko download prompt: neither is needed.
            WINEDLLOVERRIDES="mscoree,mshtml=",
        )
        return env

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run a Windows program; its output is read from files, not pipes: Wine's background
        services inherit the handles, and a pipe would not end while they run."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            done = subprocess.run(
                ["wine", *args],
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                timeout=timeout,
                check=False,
            )
            out.seek(0)
            err.seek(0)
            text = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
        return subprocess.CompletedProcess(done.args, done.returncode, *text)

    def run_quietly(self, *argv: str, timeout: float) -> None:
        """Run a Wine tool that must succeed, with no input and its output discarded."""
        subprocess.run(
            argv,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=True,
        )

    def start_server(self) -> None:
        """Keep one wineserver for the whole module: a fresh one per command costs seconds."""
        self.run_quietly("wineserver", "-p", timeout=60)

    def stop_server(self) -> None:
        subprocess.run(["wineserver", "-k"], env=self.env(), timeout=60, check=False)
        subprocess.run(["wineserver", "-w"], env=self.env(), timeout=120, check=False)

    def windows(self, variable: str) -> str:
        """A Windows folder variable such as LOCALAPPDATA, as Windows shows it."""
        return self.run("cmd", "/c", f"echo %{variable}%").stdout.strip()

    def folder(self, variable: str) -> Path:
        """The Linux path of a Windows folder variable such as LOCALAPPDATA."""
        shown = self.windows(variable)
        return Path(self.run("winepath", "-u", shown).stdout.strip())

    def reg_value(self, key: str, name: str) -> str | None:
        """A registry value as ``reg query`` shows it, or None when it is not there."""
        done = self.run("reg", "query", key, "/v", name)
        if done.returncode != 0:
            return None
        for line in done.stdout.splitlines():
            parts = line.split(None, 2)
            if len(parts) == 3 and parts[0] == name:
                return parts[2].strip()
        return None

    def key_exists(self, key: str) -> bool:
        return self.run("reg", "query", key).returncode == 0


@dataclass
class Setup:
    """The two installers (an older version and this one) and what they contain."""

    old: Path
    new: Path
    lab_exe: Path


@dataclass
class Places:
    """Where a per-user install puts things, inside the prefix."""

    install: Path
    install_win: str
    data: Path
    start_menu: Path
    program_files: Path
    standin_log: Path

    def leave_data(self, name: str, text: str) -> None:
        """A file in the user's data folder, as the wizard would have left it there."""
        self.data.mkdir(parents=True, exist_ok=True)
        (self.data / name).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def wine() -> Iterator[Wine]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    prefix = WORK / "prefix"
    fresh = not (prefix / "system.reg").exists()
    RESULTS.unlink(missing_ok=True)
    started = time.monotonic()
    wine = Wine(prefix)
    prefix.mkdir(parents=True, exist_ok=True)  # wineserver needs the folder; wineboot fills it
    wine.start_server()
    wine.run_quietly("wineboot", "--init", timeout=600)
    record(
        "Wine prefix " + ("created" if fresh else "reused (build/wine/prefix)"),
        time.monotonic() - started,
    )
    try:
        yield wine
    finally:
        wine.stop_server()


def _go_windows(source: str, out: Path) -> None:
    """Build a Go package (``./resources/lab``) or file for 64-bit Windows, as build.sh does."""
    env = dict(
        os.environ,
        GO111MODULE="off",
        GOPATH="/usr/share/gocode",
        CGO_ENABLED="0",
        GOFLAGS="",
        GOOS="windows",
        GOARCH="amd64",
        GOCACHE=str(WORK / "go-cache"),
    )
    done = subprocess.run(
        ["go", "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), source],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"go build {source} for Windows failed: {done.stderr}"


def _lab_exe() -> Path:
    """packaging/build.sh's lab .exe (it names it), or one built here once per source change."""
    given = os.environ.get(LAB_EXE_ENV)
    if given:
        assert Path(given).is_file(), f"{LAB_EXE_ENV} names {given}, which is not a file"
        return Path(given)
    digest = hashlib.sha256()
    for source in sorted((ROOT / "resources" / "lab").glob("*.go")):
        digest.update(source.read_bytes())
    out = WORK / "lab" / digest.hexdigest()[:16] / "checkpoint-lab.exe"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        _go_windows("./resources/lab", out)
    return out


def _payload(folder: Path, standin: Path, lab_exe: Path, *, stale: bool) -> Path:
    shutil.copy(standin, folder / "checkpoint-wizard.exe")
    shutil.copy(standin, folder / "checkpoint-wizard-cli.exe")
    shutil.copy(lab_exe, folder / "checkpoint-lab.exe")
    resources = folder / "_internal" / "resources"
    shutil.copytree(ROOT / "resources" / "scenarios", resources / "scenarios")
    shutil.copytree(ROOT / "resources" / "ui", resources / "ui")
    if stale:
        (folder / "_internal" / "stale-from-0.0.9.txt").write_text("old", encoding="utf-8")
    return folder


def _makensis(version: str, payload: Path, out: Path) -> None:
    subprocess.run(
        [
            "makensis",
            "-V2",
            "-WX",
            f"-DVERSION={version}",
            f"-DPAYLOAD={payload}",
            "-DCOMPRESSOR=zlib",
            f"-DOUTFILE={out}",
            str(INSTALLER),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def setup(wine: Wine, tmp_path_factory: pytest.TempPathFactory) -> Setup:
    started = time.monotonic()
    work = tmp_path_factory.mktemp("installers")
    (work / "standin").mkdir()
    (work / "standin" / "main.go").write_text(STANDIN_GO, encoding="utf-8")
    standin = work / "checkpoint-wizard-standin.exe"
    _go_windows(str(work / "standin" / "main.go"), standin)
    lab_exe = _lab_exe()
    made = {}
    for version, stale in ((OLD_VERSION, True), (wizard.__version__, False)):
        payload = work / f"payload-{version}"
        payload.mkdir()
        _payload(payload, standin, lab_exe, stale=stale)
        made[version] = work / f"checkpoint-wizard-{version}-setup.exe"
        _makensis(version, payload, made[version])
    record("two installers built (stand-in program, real lab)", time.monotonic() - started)
    return Setup(old=made[OLD_VERSION], new=made[wizard.__version__], lab_exe=lab_exe)


@pytest.fixture
def places(wine: Wine, setup: Setup) -> Iterator[Places]:
    """A prefix with no Checkpoint Wizard in it, before and after the test."""
    local = wine.folder("LOCALAPPDATA")
    found = Places(
        install=local / "Programs" / PRODUCT,
        install_win=wine.windows("LOCALAPPDATA") + f"\\Programs\\{PRODUCT}",
        data=local / "checkpoint-wizard",
        start_menu=wine.folder("APPDATA") / "Microsoft/Windows/Start Menu/Programs",
        program_files=wine.folder("ProgramFiles"),
        standin_log=wine.folder("TEMP") / "checkpoint-wizard-standin.log",
    )

    def clean() -> None:
        shutil.rmtree(found.install, ignore_errors=True)
        shutil.rmtree(found.data, ignore_errors=True)
        (found.start_menu / f"{PRODUCT}.lnk").unlink(missing_ok=True)
        found.standin_log.unlink(missing_ok=True)
        wine.run("reg", "delete", KEY, "/f")

    clean()
    yield found
    clean()


def _install(wine: Wine, installer: Path, step: str) -> None:
    started = time.monotonic()
    done = wine.run(str(installer), "/S")
    assert done.returncode == 0, f"{installer.name} /S exited {done.returncode}: {done.stderr}"
    record(step, time.monotonic() - started, "exit 0")


def _uninstall(wine: Wine, places: Places, *switches: str, step: str) -> None:
    """Run the uninstaller as an IT script does: from a batch file, with ``_?=`` last.

    ``_?=`` (run in place and wait, so the exit code is the result) must be the last thing on
    the command line and unquoted, though the folder has a blank; a list of arguments would
    quote it, so the line is written into a batch file exactly as a script would have it.
    """
    script = wine.folder("TEMP") / "uninstall-checkpoint-wizard.cmd"
    line = f'"{places.install_win}\\uninstall.exe" /S {" ".join(switches)} _?={places.install_win}'
    script.write_text(f"@echo off\r\n{line}\r\nexit /b %ERRORLEVEL%\r\n", encoding="utf-8")
    started = time.monotonic()
    done = wine.run("cmd", "/c", wine.windows("TEMP") + "\\uninstall-checkpoint-wizard.cmd")
    assert done.returncode == 0, f"uninstall {switches} exited {done.returncode}: {done.stderr}"
    record(step, time.monotonic() - started, "exit 0")


def _win(places: Places) -> str:
    return places.install_win


PROGRAM_ITEMS = ("checkpoint-wizard.exe", "checkpoint-wizard-cli.exe", "checkpoint-lab.exe")


def test_installers_ask_windows_for_no_admin_rights(setup: Setup) -> None:
    for installer in (setup.old, setup.new):
        manifest = installer.read_bytes()
        assert b'level="asInvoker"' in manifest, f"{installer.name} would ask for admin rights"
        assert b"requireAdministrator" not in manifest
        assert b"highestAvailable" not in manifest


def test_silent_install_is_per_user(wine: Wine, setup: Setup, places: Places) -> None:
    _install(wine, setup.new, f"silent install of {wizard.__version__} (setup.exe /S)")

    for item in (*PROGRAM_ITEMS, "uninstall.exe", "_internal/resources/scenarios"):
        assert (places.install / item).exists(), f"not installed: {item}"
    assert (places.install / "checkpoint-lab.exe").read_bytes() == setup.lab_exe.read_bytes()
    assert (places.start_menu / f"{PRODUCT}.lnk").is_file(), "no Start-menu shortcut"
    assert wine.reg_value(KEY, "DisplayName") == PRODUCT
    assert wine.reg_value(KEY, "DisplayVersion") == wizard.__version__
    assert wine.reg_value(KEY, "InstallLocation") == _win(places)
    assert wine.reg_value(KEY, "QuietUninstallString") == f'"{_win(places)}\\uninstall.exe" /S'
    # Nothing machine-wide: no admin rights were needed for any of it.
    drive_c = places.program_files.parent
    for machine_wide in ("Program Files", "Program Files (x86)", "ProgramData"):
        assert not (drive_c / machine_wide / PRODUCT).exists()
    assert not wine.key_exists(MACHINE_KEY)


def test_upgrade_over_an_older_version_leaves_nothing_stale(
    wine: Wine, setup: Setup, places: Places
) -> None:
    _install(wine, setup.old, f"silent install of {OLD_VERSION}")
    stale = places.install / "_internal" / "stale-from-0.0.9.txt"
    assert stale.is_file()
    assert wine.reg_value(KEY, "DisplayVersion") == OLD_VERSION
    places.leave_data("journal.jsonl", "{}\n")

    _install(wine, setup.new, f"upgrade {OLD_VERSION} -> {wizard.__version__} in place")

    assert not stale.exists(), "the older version's file survived the upgrade"
    assert wine.reg_value(KEY, "DisplayVersion") == wizard.__version__
    assert (places.install / "checkpoint-lab.exe").read_bytes() == setup.lab_exe.read_bytes()
    assert (places.data / "journal.jsonl").read_text(encoding="utf-8") == "{}\n"


def test_silent_uninstall_keeps_journal_settings_and_passwords(
    wine: Wine, setup: Setup, places: Places
) -> None:
    _install(wine, setup.new, "install before the uninstall")
    places.leave_data("journal.jsonl", "{}\n")
    places.leave_data("gui.json", "{}")
    (places.data / "Cache").mkdir()

    _uninstall(wine, places, step="silent uninstall (keeps journal and settings)")

    for item in (*PROGRAM_ITEMS, "_internal"):
        assert not (places.install / item).exists(), f"left behind: {item}"
    assert not (places.start_menu / f"{PRODUCT}.lnk").exists()
    assert not wine.key_exists(KEY), "the uninstall entry is still there"
    assert (places.data / "journal.jsonl").is_file()
    assert (places.data / "gui.json").is_file()
    assert not (places.data / "Cache").exists()
    calls = places.standin_log.read_text() if places.standin_log.exists() else ""
    assert "forget-passwords" not in calls


def test_uninstall_with_removal_forgets_passwords_and_data(
    wine: Wine, setup: Setup, places: Places
) -> None:
    _install(wine, setup.new, "install before the full removal")
    places.leave_data("journal.jsonl", "{}\n")

    _uninstall(
        wine,
        places,
        "/REMOVEDATA",
        "/FORGETPASSWORDS",
        step="uninstall /REMOVEDATA /FORGETPASSWORDS",
    )

    assert not places.data.exists(), "the journal and settings were kept"
    assert not (places.install / "checkpoint-wizard-cli.exe").exists()
    assert not wine.key_exists(KEY)
    calls = places.standin_log.read_text(encoding="utf-8").splitlines()
    assert "checkpoint-wizard-cli.exe forget-passwords --yes" in calls


def _run_cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    host: str,
    user: str,
    password: str,
    fingerprint: str,
    *args: str,
) -> tuple[int, dict[str, Any]]:
    argv = [*args, "--vcenter", host, "--user", user, "--password-stdin"]
    argv += ["--trust-fingerprint", fingerprint, "--timeout", "30", "--json"]
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{password}\n"))
    code = cli.main(argv)
    out = capsys.readouterr().out
    data: dict[str, Any] = json.loads(out)
    return code, data


def test_product_on_linux_drives_the_installed_windows_lab(
    wine: Wine,
    setup: Setup,
    places: Places,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _install(wine, setup.new, "install (the lab that ships)")
    # The product starts the lab through its usual launcher; Wine runs the installed .exe.
    launcher = tmp_path / "checkpoint-lab-under-wine"
    env = " ".join(f"{k}='{v}'" for k, v in wine.env().items() if k.startswith("WINE"))
    exe = places.install / "checkpoint-lab.exe"
    launcher.write_text(f'#!/bin/sh\nexec env {env} wine "{exe}" "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)

    started = time.monotonic()
    with running_lab(SCENARIO, tmp_path, binary=launcher) as lab:
        info = lab.info
        record("lab .exe under Wine: ready", time.monotonic() - started)
        where = f"{info.host}:{info.port}"
        login = (where, info.user, info.password, info.thumbprint_sha256)

        started = time.monotonic()
        code, checked = _run_cli(monkeypatch, capsys, *login, "check", "--vm", "Dual W7")
        assert code == cli.EXIT_OK
        verdict = checked["verdict"]
        assert verdict not in ("not_affected", "mitigated"), checked
        assert any(r["id"] == "raise_buffer" for r in checked["remedies"])
        record("check on Linux against the Windows lab", time.monotonic() - started, verdict)

        started = time.monotonic()
        apply = ["apply", "--vm", "Dual W7", "--remedy", "raise_buffer", "--yes"]
        apply += ["--allow-shutdown", "--shutdown-timeout", "20"]
        code, applied = _run_cli(monkeypatch, capsys, *login, *apply)
        assert code == cli.EXIT_OK
        assert applied["outcome"] == "applied", applied
        assert applied["verification"]["verdict"] == "mitigated"
        record("apply raise_buffer against the Windows lab", time.monotonic() - started, "applied")

        code, again = _run_cli(monkeypatch, capsys, *login, *apply)
        assert code == cli.EXIT_OK
        assert again["outcome"] != "applied", again  # the change is there: nothing to do
