"""Find the training lab's binary, or build it from its Go source.

The lab is a small Go program on govmomi's vCenter simulator (``resources/lab``). Where it comes
from, first match wins:

1. the environment variable ``CHECKPOINT_WIZARD_LAB_BIN`` (a path to the binary);
2. in a frozen build, ``checkpoint-lab`` (``.exe`` on Windows) beside the executable;
3. otherwise it is built with ``go`` into the cache, in a folder named after the sources'
   hash, and reused from there: a second start costs nothing.

Two processes that build at once (two test runs) take a file lock, and the binary appears by an
atomic rename, so neither ever runs a half-written file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from wizard import paths

ENV_BINARY = "CHECKPOINT_WIZARD_LAB_BIN"
BINARY_NAME = "checkpoint-lab.exe" if sys.platform == "win32" else "checkpoint-lab"
INSTALL_HINT = "apt-get install golang-go golang-github-vmware-govmomi-dev"
BUILD_TIMEOUT_S = 600.0

# Where Debian's golang-github-vmware-govmomi-dev puts the library (GOPATH mode).
_DEBIAN_GOPATH = Path("/usr/share/gocode")
_GOVMOMI = Path("src/github.com/vmware/govmomi/simulator")


class LabUnavailable(RuntimeError):
    """The lab binary can be neither found nor built; the message says what to install."""


def lab_binary() -> Path:
    """Return the lab binary to run, building it if needed.

    Returns:
        The path of an existing executable.

    Raises:
        LabUnavailable: The binary is missing and cannot be built here.
    """
    env = os.environ.get(ENV_BINARY)
    if env:
        path = Path(env)
        if not path.is_file():
            raise LabUnavailable(f"{ENV_BINARY} names {path}, which is not a file.")
        return path
    if getattr(sys, "frozen", False):
        path = Path(sys.executable).resolve().parent / BINARY_NAME
        if not path.is_file():
            raise LabUnavailable(f"The training lab ({BINARY_NAME}) is missing from {path.parent}.")
        return path
    return build_lab_binary()


def source_digest(source_dir: Path) -> str:
    """Return the first 16 hex digits of the SHA-256 over the lab's ``.go`` files.

    Args:
        source_dir: The folder holding the lab's Go package.

    Raises:
        LabUnavailable: The folder holds no Go source.
    """
    sources = sorted(source_dir.glob("*.go"))
    if not sources:
        raise LabUnavailable(f"No Go source of the training lab in {source_dir}.")
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.name.encode() + b"\0")
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_lab_binary(
    source_dir: Path | None = None,
    cache_dir: Path | None = None,
    timeout: float = BUILD_TIMEOUT_S,
) -> Path:
    """Build the lab from source into the cache, or reuse an earlier build of the same source.

    Args:
        source_dir: The lab's Go package (default: ``resources/lab``).
        cache_dir: Where builds are kept (default: the product's cache folder).
        timeout: Seconds the build may take.

    Returns:
        The path of the built binary.

    Raises:
        LabUnavailable: Go or govmomi is missing, or the build failed.
    """
    source_dir = source_dir or paths.repo_resources() / "lab"
    cache_dir = (cache_dir or paths.cache_dir()) / "lab"
    out_dir = cache_dir / source_digest(source_dir)
    target = out_dir / BINARY_NAME
    if target.is_file():
        return target

    go = shutil.which("go")
    if go is None:
        raise LabUnavailable(f"The training lab needs Go to be built. Install it: {INSTALL_HINT}")
    gopath = _find_gopath()
    out_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(out_dir / ".build.lock"):
        if target.is_file():  # another process built it while we waited
            return target
        partial = out_dir / f".{BINARY_NAME}.{os.getpid()}.partial"
        env = dict(os.environ)
        env.update(
            {
                "GO111MODULE": "off",
                "GOPATH": str(gopath),
                "GOCACHE": str(cache_dir / "gocache"),
                "GOFLAGS": "",
                # No C compiler needed, and the binary runs wherever it is copied.
                "CGO_ENABLED": "0",
            }
        )
        try:
            result = subprocess.run(
                [go, "build", "-o", str(partial), "."],
                cwd=source_dir,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            partial.unlink(missing_ok=True)
            raise LabUnavailable(f"Building the training lab took over {timeout:.0f} s.") from exc
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            detail = (result.stderr or result.stdout).strip()[-2000:]
            raise LabUnavailable(f"Building the training lab failed:\n{detail}")
        os.replace(partial, target)
    return target


def _find_gopath() -> Path:
    """Return a GOPATH that holds govmomi's simulator.

    Raises:
        LabUnavailable: govmomi is not installed.
    """
    candidates = [Path(p) for p in os.environ.get("GOPATH", "").split(os.pathsep) if p]
    candidates.append(_DEBIAN_GOPATH)
    for candidate in candidates:
        if (candidate / _GOVMOMI).is_dir():
            return candidate
    raise LabUnavailable(
        "The training lab needs govmomi's simulator (not found in GOPATH). "
        f"Install it: {INSTALL_HINT}"
    )


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) while the block runs."""
    with path.open("a+b") as handle:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:  # LK_LOCK gives up after 10 s: keep waiting for the builder
                    continue
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
