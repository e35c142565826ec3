"""Where the product keeps its files.

Everything lives under the per-user folders that platformdirs gives for this OS. Setting the
environment variable ``CHECKPOINT_WIZARD_BASEDIR`` (or calling :func:`set_basedir`) moves all of
them under one folder: tests and the self-test use it so they never touch a user's real files.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "checkpoint-wizard"
_ENV = "CHECKPOINT_WIZARD_BASEDIR"
_basedir: Path | None = None


def set_basedir(path: Path | None) -> None:
    """Keep every file of the product under ``path`` (None: back to the OS defaults)."""
    global _basedir
    _basedir = path


def basedir() -> Path | None:
    """The one folder every file of the product is kept under, when one is set (else None)."""
    return _base()


def _base() -> Path | None:
    if _basedir is not None:
        return _basedir
    env = os.environ.get(_ENV)
    return Path(env) if env else None


class FolderError(OSError):
    """One of the product's folders cannot be created: the message names it and what to do.

    An ``OSError``, so code that already handles one keeps doing so.

    Attributes:
        path: the folder.
    """

    def __init__(self, what: str, path: Path, cause: OSError) -> None:
        """Name the folder, why it failed, and the file in the way, if that is the reason."""
        self.path = path
        why = cause.strerror or str(cause)
        blocker = _file_in_the_way(path)
        fix = (
            f"{blocker} is a file, not a folder: move or rename it"
            if blocker is not None
            else "make sure you may create it (its parent folder's permissions, free space)"
        )
        base = _base()
        where = (
            f"the wizard's folders are under {base} ({_ENV}): point that at a folder you can "
            "write to"
            if base is not None
            else f"or set {_ENV} to a folder you can write to"
        )
        super().__init__(
            f"The wizard's {what} folder {path} cannot be created ({why}). {fix}; {where}."
        )


def _file_in_the_way(path: Path) -> Path | None:
    """The nearest of ``path`` and its parents that exists but is not a folder, if any."""
    for candidate in (path, *path.parents):
        try:
            if candidate.exists() and not candidate.is_dir():
                return candidate
        except OSError:
            return None
    return None


def _ensure(path: Path, what: str) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FolderError(what, path, exc) from exc
    return path


def data_dir() -> Path:
    """Journal, pinned certificates, the trainer's scenarios, the lab's certificate.

    Raises:
        FolderError: the folder cannot be created (as may :func:`config_dir`, :func:`cache_dir`
            and :func:`log_dir`).
    """
    base = _base()
    return _ensure(base / "data" if base else platformdirs.user_data_path(APP_NAME, False), "data")


def config_dir() -> Path:
    """Settings (recent vCenters, options)."""
    base = _base()
    return _ensure(
        base / "config" if base else platformdirs.user_config_path(APP_NAME, False), "settings"
    )


def cache_dir() -> Path:
    """Things that can be rebuilt: the compiled lab, the last inventory."""
    base = _base()
    return _ensure(
        base / "cache" if base else platformdirs.user_cache_path(APP_NAME, False), "cache"
    )


def log_dir() -> Path:
    """The log file a technician can open."""
    base = _base()
    return _ensure(base / "logs" if base else platformdirs.user_log_path(APP_NAME, False), "log")


def repo_resources() -> Path:
    """The ``resources`` folder: beside the package in a checkout, or bundled when frozen."""
    import sys

    frozen_base = getattr(sys, "_MEIPASS", None)
    if frozen_base:
        return Path(frozen_base) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"
