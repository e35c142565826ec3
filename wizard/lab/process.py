"""Start and stop the training lab process.

The lab prints one line of JSON on stdout once it answers (its URL, login and the fingerprints
of its certificate and of its certificate authority) and runs until it is told to stop. While it
runs, :meth:`LabProcess.renew_certificate` and :meth:`LabProcess.replace_certificate_authority`
give it a new certificate (from the same authority, or from a new one), as vCenter's are
renewed or replaced. :class:`LabProcess` starts it, waits for that
line with a time limit, and makes sure the process never outlives its owner:

- ``stop()``, the context manager, garbage collection and interpreter exit all end it;
- the lab runs with ``--exit-with-parent`` and a pipe as its standard input whose other end
  only this process holds: when this process ends in any way (SIGKILL, a crash, a closed
  terminal), the system closes that end and the lab stops by itself, cleanly. On Linux the lab
  also asks the kernel for a signal when this process dies;
- on Windows the lab is also put in a job object that kills it when the job's last handle
  (ours) closes, which the system does when this process ends.
"""

from __future__ import annotations

import abc
import collections
import contextlib
import json
import logging
import queue
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Self, TypeVar

from wizard.lab.binary import lab_binary
from wizard.lab.scenario import MAX_FILLER_VMS

READY_TIMEOUT_S = 120.0  # 10,000 filler VMs take about 20 s to build on a slow machine
COMMAND_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
_STDERR_LINES = 200
_T = TypeVar("_T")
_log = logging.getLogger(__name__)


class LabError(RuntimeError):
    """The lab did not start (the message carries what it said on stderr) or answered oddly."""


@dataclass(frozen=True)
class LabInfo:
    """Where a running lab answers and how to log in to it.

    Attributes:
        url: The SOAP endpoint, ``https://127.0.0.1:PORT/sdk``.
        host: ``127.0.0.1``.
        port: The TCP port.
        user: The scenario's login user.
        password: Its password.
        thumbprint_sha256: SHA-256 fingerprint of the lab's certificate, ``AB:CD:…``.
        ca_thumbprint_sha256: SHA-256 fingerprint of the lab's certificate authority, which
            signs that certificate and is offered at ``/certs/download.zip``; ``""`` when the
            lab serves a certificate it was given (``cert_file``).
    """

    url: str
    host: str
    port: int
    user: str
    password: str
    thumbprint_sha256: str
    ca_thumbprint_sha256: str = ""

    @classmethod
    def from_ready_line(cls, line: str) -> LabInfo:
        """Parse the lab's ready line.

        Raises:
            LabError: The line is not the JSON object the lab prints.
        """
        try:
            data = json.loads(line)
            info = cls(
                url=_typed(data, "url", str),
                host=_typed(data, "host", str),
                port=_typed(data, "port", int),
                user=_typed(data, "user", str),
                password=_typed(data, "password", str),
                thumbprint_sha256=_typed(data, "thumbprint_sha256", str),
                ca_thumbprint_sha256=_typed(data, "ca_thumbprint_sha256", str),
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise LabError(f"The lab's ready line is not what was expected: {exc}") from exc
        return info

    def __repr__(self) -> str:
        # Keep the password out of logs and test reports.
        return (
            f"LabInfo(url={self.url!r}, user={self.user!r}, password='***', "
            f"thumbprint_sha256={self.thumbprint_sha256!r}, "
            f"ca_thumbprint_sha256={self.ca_thumbprint_sha256!r})"
        )


def _typed(data: Any, key: str, kind: type[_T]) -> _T:
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{key} is not a {kind.__name__}")
    return value


def _end_process(
    proc: subprocess.Popen[str], timeout: float, close: bool = True, job: int | None = None
) -> None:
    """Ask the lab to stop, wait, and kill it when it does not. Safe to call twice."""
    if proc.poll() is None:
        # Its end of the lifeline first: the lab stops on it on every system.
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin is not None:
                proc.stdin.close()
        try:
            if sys.platform == "win32":
                proc.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                proc.send_signal(signal.SIGTERM)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
        except OSError:  # already gone
            proc.wait(timeout)
    if job is not None:
        _close_job(job)
    if close:
        _close_streams(proc)


def _close_streams(proc: subprocess.Popen[str]) -> None:
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream is not None:
            with contextlib.suppress(OSError):  # stdin: the lab may have gone before reading
                stream.close()


# Windows: a job object that kills the lab when its last handle closes. It cannot be tested on
# the Linux machines this project runs its tests on; it is the documented Win32 way (the lab's
# stdin pipe is the mechanism tested everywhere, this one is a second line on Windows).
if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    _JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
    _JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
    _PROCESS_SET_QUOTA = 0x0100
    _PROCESS_TERMINATE = 0x0001

    class _IoCounters(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_ulonglong)
            for name in (
                "ReadOperationCount",
                "WriteOperationCount",
                "OtherOperationCount",
                "ReadTransferCount",
                "WriteTransferCount",
                "OtherTransferCount",
            )
        ]

    class _BasicLimits(ctypes.Structure):
        _fields_ = [
            ("PerProcessUserTimeLimit", ctypes.c_int64),
            ("PerJobUserTimeLimit", ctypes.c_int64),
            ("LimitFlags", wintypes.DWORD),
            ("MinimumWorkingSetSize", ctypes.c_size_t),
            ("MaximumWorkingSetSize", ctypes.c_size_t),
            ("ActiveProcessLimit", wintypes.DWORD),
            ("Affinity", ctypes.c_size_t),
            ("PriorityClass", wintypes.DWORD),
            ("SchedulingClass", wintypes.DWORD),
        ]

    class _ExtendedLimits(ctypes.Structure):
        _fields_ = [
            ("BasicLimitInformation", _BasicLimits),
            ("IoInfo", _IoCounters),
            ("ProcessMemoryLimit", ctypes.c_size_t),
            ("JobMemoryLimit", ctypes.c_size_t),
            ("PeakProcessMemoryUsed", ctypes.c_size_t),
            ("PeakJobMemoryUsed", ctypes.c_size_t),
        ]

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
    _kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    _kernel32.SetInformationJobObject.argtypes = [
        wintypes.HANDLE,
        ctypes.c_int,
        ctypes.c_void_p,
        wintypes.DWORD,
    ]
    _kernel32.SetInformationJobObject.restype = wintypes.BOOL
    _kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    _kernel32.OpenProcess.restype = wintypes.HANDLE
    _kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    _kernel32.AssignProcessToJobObject.restype = wintypes.BOOL
    _kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    _kernel32.CloseHandle.restype = wintypes.BOOL

    def _kill_with_us(pid: int) -> int | None:
        """Put the process in a new kill-on-close job; return the job's handle (None: failed,
        which leaves the stdin pipe as the only lifeline, and is logged)."""
        job = _kernel32.CreateJobObjectW(None, None)  # not inheritable: no child keeps it open
        if not job:
            _log.warning("no job object for the lab (error %d)", ctypes.get_last_error())
            return None
        limits = _ExtendedLimits()
        limits.BasicLimitInformation.LimitFlags = _JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        process = _kernel32.OpenProcess(_PROCESS_SET_QUOTA | _PROCESS_TERMINATE, False, pid)
        ok = bool(process) and bool(
            _kernel32.SetInformationJobObject(
                job,
                _JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
                ctypes.byref(limits),
                ctypes.sizeof(limits),
            )
        )
        ok = ok and bool(_kernel32.AssignProcessToJobObject(job, process))
        error = ctypes.get_last_error()
        if process:
            _kernel32.CloseHandle(process)
        if not ok:
            _log.warning("the lab is not in a job object (error %d)", error)
            _kernel32.CloseHandle(job)
            return None
        return int(job)

    def _close_job(job: int) -> None:
        _kernel32.CloseHandle(job)

else:

    def _kill_with_us(pid: int) -> int | None:
        """Job objects are Windows'; elsewhere the stdin pipe (and Linux's parent-death signal)
        end the lab with us."""
        return None

    def _close_job(job: int) -> None:
        pass


class StopsOnExit(abc.ABC):
    """Something that runs until :meth:`stop`: a ``with`` block that holds it stops it on the
    way out, however the block ends. The lab process and the tests' fault proxy share it."""

    @abc.abstractmethod
    def stop(self) -> object:
        """Stop running and release what it holds."""

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class LabProcess(StopsOnExit):
    """One run of the lab binary for a scenario.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with LabProcess(Path("scenario.json")) as lab:
            connect(lab.info.url, ...)

    Args:
        scenario: The scenario file.
        port: TCP port on 127.0.0.1; 0 takes a free one.
        filler_vms: Filler VMs, overriding the scenario's number.
        delay_ms: Delay of every SOAP call, in milliseconds.
        method_delays: Extra delay per SOAP method name, in milliseconds.
        cert_file: Certificate to serve, kept across starts (made when missing); the lab then
            has no certificate authority of its own.
        key_file: Its private key (made when missing).
        ca_dir: A folder keeping the lab's certificate authority, its certificate and its
            vCenter identity across starts, as a vCenter keeps them (made when missing).
            Without it (and without ``cert_file``) each start is a new vCenter with a new
            authority.
        renew_certificate: With ``ca_dir``: start with a new certificate from the kept
            authority (a renewal).
        replace_certificate_authority: With ``ca_dir``: start with a new authority and a
            certificate from it (a replacement).
        certs_zip: A file the lab serves as ``/certs/download.zip`` instead of its authority's
            (a damaged or hostile download, for tests).
        binary: The lab binary (default: :func:`wizard.lab.binary.lab_binary`).
        ready_timeout: Seconds to wait for the ready line.
        verbose: Let the lab log to its stderr (kept in :attr:`stderr_tail`).
    """

    def __init__(
        self,
        scenario: Path,
        *,
        port: int = 0,
        filler_vms: int | None = None,
        delay_ms: int = 0,
        method_delays: Mapping[str, int] | None = None,
        cert_file: Path | None = None,
        key_file: Path | None = None,
        ca_dir: Path | None = None,
        renew_certificate: bool = False,
        replace_certificate_authority: bool = False,
        certs_zip: Path | None = None,
        binary: Path | None = None,
        ready_timeout: float = READY_TIMEOUT_S,
        verbose: bool = False,
    ) -> None:
        if (cert_file is None) != (key_file is None):
            raise ValueError("cert_file and key_file go together")
        if ca_dir is not None and cert_file is not None:
            raise ValueError("ca_dir and cert_file exclude each other")
        if (renew_certificate or replace_certificate_authority) and ca_dir is None:
            raise ValueError("renew_certificate and replace_certificate_authority need ca_dir")
        if renew_certificate and replace_certificate_authority:
            raise ValueError(
                "renew_certificate and replace_certificate_authority exclude each other"
            )
        if filler_vms is not None and not 0 <= filler_vms <= MAX_FILLER_VMS:
            raise ValueError(f"filler_vms must be from 0 to {MAX_FILLER_VMS}, not {filler_vms}")
        self._scenario = scenario
        self._port = port
        self._filler_vms = filler_vms
        self._delay_ms = delay_ms
        self._method_delays = dict(method_delays or {})
        self._cert_file = cert_file
        self._key_file = key_file
        self._ca_dir = ca_dir
        self._renew = renew_certificate
        self._replace = replace_certificate_authority
        self._certs_zip = certs_zip
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._command_lock = threading.Lock()
        self._binary = binary
        self._ready_timeout = ready_timeout
        self._verbose = verbose
        self._proc: subprocess.Popen[str] | None = None
        self._info: LabInfo | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
        self._threads: list[threading.Thread] = []
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._job: int | None = None

    def command(self) -> list[str]:
        """Return the command line that :meth:`start` runs."""
        binary = self._binary or lab_binary()
        args = [
            str(binary),
            "--scenario",
            str(self._scenario),
            "--port",
            str(self._port),
            "--exit-with-parent",
        ]
        if self._filler_vms is not None:
            args += ["--filler-vms", str(self._filler_vms)]
        if self._delay_ms:
            args += ["--delay-ms", str(self._delay_ms)]
        if self._method_delays:
            delays = ",".join(f"{name}={ms}" for name, ms in self._method_delays.items())
            args += ["--method-delay", delays]
        if self._cert_file is not None and self._key_file is not None:
            args += ["--cert-file", str(self._cert_file), "--key-file", str(self._key_file)]
        if self._ca_dir is not None:
            args += ["--ca-dir", str(self._ca_dir)]
        if self._renew:
            args.append("--renew-certificate")
        if self._replace:
            args.append("--replace-certificate-authority")
        if self._certs_zip is not None:
            args += ["--certs-zip", str(self._certs_zip)]
        if self._verbose:
            args.append("--verbose")
        return args

    @property
    def info(self) -> LabInfo:
        """Where the running lab answers.

        Raises:
            LabError: The lab has not been started.
        """
        if self._info is None:
            raise LabError("The lab is not running.")
        return self._info

    @property
    def pid(self) -> int | None:
        """The lab's process id, while it has one."""
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        """The lab's exit code once it has ended, else None."""
        return self._proc.poll() if self._proc is not None else None

    @property
    def stderr_tail(self) -> str:
        """The last lines the lab wrote on stderr."""
        return "".join(self._stderr)

    def start(self) -> LabInfo:
        """Start the lab and wait until it answers.

        Returns:
            Where the lab answers.

        Raises:
            LabError: The lab exited (bad scenario: its message names the field) or did not
                become ready in time.
            wizard.lab.binary.LabUnavailable: There is no lab binary and none can be built.
        """
        if self._proc is not None:
            raise LabError("The lab was already started.")
        args = self.command()
        flags = 0
        if sys.platform == "win32":
            # Its own process group, so CTRL_BREAK reaches the lab and not us.
            flags = subprocess.CREATE_NEW_PROCESS_GROUP
        proc = subprocess.Popen(
            args,
            # The lifeline: the lab stops when this pipe closes, i.e. when we end, however.
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            creationflags=flags,
        )
        self._proc = proc
        self._job = _kill_with_us(proc.pid)
        # The safety net: garbage collection or interpreter exit ends the process too.
        self._finalizer = weakref.finalize(
            self, _end_process, proc, STOP_TIMEOUT_S, True, self._job
        )
        try:
            return self._wait_ready(proc)
        except BaseException:
            # Also a signal turned into an exception, or Ctrl+C, while waiting: stop the lab.
            self.stop()
            raise

    def _wait_ready(self, proc: subprocess.Popen[str]) -> LabInfo:
        lines = self._lines
        assert proc.stdout is not None
        assert proc.stderr is not None
        self._threads = [
            threading.Thread(target=_pump_lines, args=(proc.stdout, lines), daemon=True),
            threading.Thread(target=_pump_tail, args=(proc.stderr, self._stderr), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

        try:
            line = lines.get(timeout=self._ready_timeout)
        except queue.Empty:
            self.stop()
            raise LabError(
                f"The lab did not become ready within {self._ready_timeout:.0f} s.\n"
                f"{self.stderr_tail}".rstrip()
            ) from None
        if line is None:  # stdout closed: the lab exited before it was ready
            code = proc.wait(STOP_TIMEOUT_S)
            self._threads[1].join(STOP_TIMEOUT_S)
            self.stop()
            raise LabError(f"The lab exited with code {code}: {self.stderr_tail.strip()}")
        self._info = LabInfo.from_ready_line(line)
        return self._info

    def renew_certificate(self, timeout: float = COMMAND_TIMEOUT_S) -> LabInfo:
        """Give the running lab a new certificate from the same authority (a renewal).

        Connections made afterwards get it; open ones keep the old one, as with vCenter.

        Returns:
            Where the lab answers, with the new fingerprint (also in :attr:`info` from now on).

        Raises:
            LabError: the lab is not running, has no authority (``cert_file``), or did not
                answer in time.
        """
        return self._command("renew-certificate", timeout)

    def replace_certificate_authority(self, timeout: float = COMMAND_TIMEOUT_S) -> LabInfo:
        """Give the running lab a new certificate authority and a certificate from it.

        Returns:
            Where the lab answers, with both new fingerprints (also in :attr:`info`).

        Raises:
            LabError: as for :meth:`renew_certificate`.
        """
        return self._command("replace-certificate-authority", timeout)

    def _command(self, command: str, timeout: float) -> LabInfo:
        with self._command_lock:
            proc, info = self._proc, self._info
            if proc is None or info is None or proc.stdin is None or proc.poll() is not None:
                raise LabError("The lab is not running.")
            try:
                proc.stdin.write(command + "\n")
                proc.stdin.flush()
                line = self._lines.get(timeout=timeout)
            except (OSError, ValueError) as exc:
                raise LabError(f"The lab did not take the command {command}: {exc}") from exc
            except queue.Empty:
                raise LabError(
                    f"The lab did not answer {command} within {timeout:.0f} s."
                ) from None
            if line is None:
                raise LabError(f"The lab ended during {command}: {self.stderr_tail.strip()}")
            try:
                answer = json.loads(line)
                if answer.get("event") == "error":
                    raise LabError(f"The lab refused {command}: {answer.get('message')}")
                updated = replace(
                    info,
                    thumbprint_sha256=_typed(answer, "thumbprint_sha256", str),
                    ca_thumbprint_sha256=_typed(answer, "ca_thumbprint_sha256", str),
                )
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise LabError(
                    f"The lab's answer to {command} is not what was expected: {exc}"
                ) from exc
            self._info = updated
            return updated

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """Stop the lab (SIGTERM, or CTRL_BREAK on Windows), killing it after ``timeout``.

        Returns:
            The lab's exit code (0 when it stopped cleanly), or None if never started.
        """
        proc = self._proc
        if proc is None:
            return None
        job, self._job = self._job, None
        _end_process(proc, timeout, close=False, job=job)
        if self._finalizer is not None:
            self._finalizer.detach()
        # The pipes reach their end once the process has gone: read them out, then close. A
        # signal can land between creating a reader and starting it: only started ones are joined.
        for thread in self._threads:
            if thread.ident is not None:
                thread.join(timeout)
        _close_streams(proc)
        self._info = None
        return proc.returncode

    def __enter__(self) -> Self:
        if self._proc is None:
            self.start()
        return self


def _pump_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Queue each line of the lab's stdout, then ``None`` when it closes."""
    try:
        for line in stream:
            lines.put(line)
    except (OSError, ValueError):  # closed under us while stopping
        pass
    lines.put(None)


def _pump_tail(stream: IO[str], tail: collections.deque[str]) -> None:
    """Keep the last lines of the lab's stderr; reading it also keeps the pipe from filling."""
    try:
        for line in stream:
            tail.append(line)
    except (OSError, ValueError):
        pass
