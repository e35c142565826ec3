"""Temporary folders that name their owner, so a later start can remove those of the dead.

A process that is killed (SIGKILL, a crash, a closed laptop lid at the wrong time) cannot remove
its temporary folder. Each folder made here carries its process id (``PREFIX<pid>-<random>``);
making one first removes the folders with the same prefix whose process no longer runs. The lab
binary does the same with its datastore folders (``resources/lab/stale.go``).

A process id can be reused: a folder whose id now belongs to another running process is kept
until that one ends too, which only delays the removal.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    _kernel32.OpenProcess.restype = wintypes.HANDLE
    _kernel32.GetExitCodeProcess.argtypes = [wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD)]
    _kernel32.GetExitCodeProcess.restype = wintypes.BOOL
    _kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    _kernel32.CloseHandle.restype = wintypes.BOOL
    _PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
    _STILL_ACTIVE = 259

    def process_alive(pid: int) -> bool:
        """Whether a process with this id runs (os.kill would end it on Windows)."""
        handle = _kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            return False
        try:
            code = wintypes.DWORD()
            if not _kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return False
            return code.value == _STILL_ACTIVE
        finally:
            _kernel32.CloseHandle(handle)

else:

    def process_alive(pid: int) -> bool:
        """Whether a process with this id runs (signal 0 checks without touching it)."""
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # someone else's process: it runs
            return True
        except OSError:
            return False
        return True


def remove_stale_temp_dirs(prefix: str, parent: Path | None = None) -> list[Path]:
    """Remove the ``prefix<pid>-*`` folders in ``parent`` (default: the temporary folder) whose
    process is gone; return those removed. Folders of running processes, ours and names
    without a process id are left alone."""
    where = Path(parent if parent is not None else tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError):
        for entry in where.iterdir():
            if not entry.name.startswith(prefix):
                continue
            pid_text = entry.name[len(prefix) :].split("-", 1)[0]
            if not pid_text.isdigit():
                continue
            pid = int(pid_text)
            if pid == os.getpid() or process_alive(pid):
                continue
            with contextlib.suppress(OSError):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                    removed.append(entry)
    return removed


def make_owned_temp_dir(prefix: str, parent: Path | None = None) -> Path:
    """Remove the stale folders with ``prefix``, then make this process's own one
    (``prefix<pid>-<random>``, readable by this user only)."""
    remove_stale_temp_dirs(prefix, parent)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
