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


def _base() -> Path | None:
    if _basedir is not None:
        return _basedir
    env = os.environ.get(_ENV)
    return Path(env) if env else None


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Journal, pinned certificates, the trainer's scenarios, the lab's certificate."""
    base = _base()
    return _ensure(base / "data" if base else platformdirs.user_data_path(APP_NAME, False))


def config_dir() -> Path:
    """Settings (recent vCenters, options)."""
    base = _base()
    return _ensure(base / "config" if base else platformdirs.user_config_path(APP_NAME, False))


def cache_dir() -> Path:
    """Things that can be rebuilt: the compiled lab, the last inventory."""
    base = _base()
    return _ensure(base / "cache" if base else platformdirs.user_cache_path(APP_NAME, False))


def log_dir() -> Path:
    """The log file a technician can open."""
    base = _base()
    return _ensure(base / "logs" if base else platformdirs.user_log_path(APP_NAME, False))


def repo_resources() -> Path:
    """The ``resources`` folder: beside the package in a checkout, or bundled when frozen."""
    import sys

    frozen_base = getattr(sys, "_MEIPASS", None)
    if frozen_base:
        return Path(frozen_base) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"
