"""Files the commands write: whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from wizard.cli.exits import EXIT_USAGE, CliError


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file in the same folder, so the
    file is either the old one or the whole new one, never half of it.

    Raises:
        CliError: the folder is missing or the file cannot be written (nothing was written).
    """
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise CliError(f"{path} is a folder: give a file name. Nothing was written.", EXIT_USAGE)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise CliError(
            f"cannot write {path}: {exc.strerror or exc}. Nothing was written.", EXIT_USAGE
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise CliError(
            f"cannot write {path}: {exc.strerror or exc}. Nothing was written.", EXIT_USAGE
        ) from None
