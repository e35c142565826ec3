"""Finding or building the lab binary (wizard.lab.binary), with a stand-in for ``go``."""

from __future__ import annotations

import os
import stat
import sys
import threading
from pathlib import Path

import pytest

from wizard.lab import binary
from wizard.lab.binary import ENV_BINARY, LabUnavailable, build_lab_binary, lab_binary

pytestmark = pytest.mark.lab

FAKE_GO = """#!/bin/sh
# Stands in for `go build -o OUT .`: counts its calls, takes a moment, writes OUT.
echo run >> "$(dirname "$0")/calls"
sleep 0.3
printf '#!/bin/sh\\n' > "$3"
chmod +x "$3"
"""


@pytest.fixture
def toolchain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake go on PATH, a fake govmomi GOPATH and a lab source folder."""
    monkeypatch.delenv(ENV_BINARY, raising=False)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(FAKE_GO)
    go.chmod(go.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + os.environ.get("PATH", ""))
    gopath = tmp_path / "gopath"
    (gopath / "src/github.com/vmware/govmomi/simulator").mkdir(parents=True)
    monkeypatch.setattr(binary, "_DEBIAN_GOPATH", gopath)
    monkeypatch.delenv("GOPATH", raising=False)
    source = tmp_path / "src"
    source.mkdir()
    (source / "main.go").write_text("package main\n")
    return bin_dir


def calls(bin_dir: Path) -> int:
    path = bin_dir / "calls"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_environment_variable_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = tmp_path / "checkpoint-lab"
    lab.write_text("")
    monkeypatch.setenv(ENV_BINARY, str(lab))
    assert lab_binary() == lab
    monkeypatch.setenv(ENV_BINARY, str(tmp_path / "missing"))
    with pytest.raises(LabUnavailable, match=ENV_BINARY):
        lab_binary()


def test_frozen_build_uses_the_binary_beside_the_executable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_BINARY, raising=False)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "checkpoint-wizard"))
    with pytest.raises(LabUnavailable, match="missing"):
        lab_binary()
    (tmp_path / binary.BINARY_NAME).write_text("")
    assert lab_binary() == tmp_path / binary.BINARY_NAME


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in go is a shell script")
def test_builds_once_per_source_and_reuses_the_cache(toolchain: Path, tmp_path: Path) -> None:
    source, cache = tmp_path / "src", tmp_path / "cache"
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(build_lab_binary(source, cache)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results[0] == results[1]
    assert results[0].parent.name == binary.source_digest(source)
    assert calls(toolchain) == 1  # the second builder waited for the first one's result
    assert build_lab_binary(source, cache) == results[0]
    assert calls(toolchain) == 1
    assert [p.name for p in results[0].parent.iterdir() if p.name.endswith(".partial")] == []

    (source / "main.go").write_text("package main // changed\n")
    rebuilt = build_lab_binary(source, cache)
    assert rebuilt != results[0]
    assert calls(toolchain) == 2


def test_missing_go_or_govmomi_says_what_to_install(
    toolchain: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, cache = tmp_path / "src", tmp_path / "cache"
    monkeypatch.setattr(binary, "_DEBIAN_GOPATH", tmp_path / "nowhere")
    with pytest.raises(
        LabUnavailable, match="apt-get install golang-go golang-github-vmware-govmomi-dev"
    ):
        build_lab_binary(source, cache)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(
        LabUnavailable, match="apt-get install golang-go golang-github-vmware-govmomi-dev"
    ):
        build_lab_binary(source, cache)
