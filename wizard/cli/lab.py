"""``lab``: start the training lab and print how to connect to it; and the scenario files and
the running lab that other commands use with ``--scenario``."""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wizard.cli.connect import Login, login_from_args
from wizard.cli.exits import EXIT_USAGE, CliError
from wizard.cli.options import filler_vms, whole
from wizard.cli.signals import Stopped, stop_on_signals, stopped

if TYPE_CHECKING:
    from wizard.lab.process import LabInfo


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``lab``."""
    lab = sub.add_parser("lab", help="start the training lab and print its connection details")
    lab.add_argument("--scenario", type=Path, metavar="FILE", help="scenario file (default one)")
    lab.add_argument(
        "--port", type=whole(0, 65535, "port"), default=0, help="port (default: a free one)"
    )
    lab.add_argument(
        "--filler-vms",
        type=filler_vms,
        default=None,
        metavar="N",
        help="filler VMs around the scenario's own (overrides the scenario's number)",
    )
    lab.add_argument(
        "--delay-ms",
        type=whole(0, 60_000, "delay in milliseconds"),
        default=0,
        help="latency added to every call",
    )


def scenario_path(value: Path | str | None) -> Path:
    """A scenario file from a path or a bundled scenario id (None: the default scenario)."""
    from wizard.lab.scenario import (
        DEFAULT_SCENARIO_ID,
        bundled_scenario_files,
        bundled_scenarios_dir,
    )

    if value is None or value == "":
        return bundled_scenarios_dir() / f"{DEFAULT_SCENARIO_ID}.json"
    path = Path(value)
    if path.exists():
        return path
    bundled = bundled_scenarios_dir() / f"{value}.json"
    if bundled.exists():
        return bundled
    known = ", ".join(p.stem for p in bundled_scenario_files())
    raise CliError(
        f"no scenario file or bundled scenario called '{value}'. Bundled scenarios: {known}.",
        EXIT_USAGE,
    )


@contextlib.contextmanager
def running_lab(
    scenario: Path, *, port: int = 0, filler_vms: int | None = None, delay_ms: int = 0
) -> Iterator[LabInfo]:
    from wizard.lab.binary import LabUnavailable
    from wizard.lab.process import LabError, LabProcess
    from wizard.lab.scenario import ScenarioError, load_scenario

    try:
        load_scenario(scenario)  # names the wrong field before any process starts
    except ScenarioError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    try:
        with LabProcess(scenario, port=port, filler_vms=filler_vms, delay_ms=delay_ms) as lab:
            yield lab.info
    except (LabUnavailable, LabError) as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def with_login(args: argparse.Namespace, work: Callable[[Login], int], stopped_note: str) -> int:
    """``work`` signed in as the arguments say or, with ``--scenario``, on that scenario's lab,
    started for it and stopped afterwards (also on SIGTERM or SIGHUP: the exit then says
    ``stopped_note``)."""
    if args.scenario is None:
        return work(login_from_args(args))
    with stop_on_signals("SIGTERM", "SIGHUP"):
        try:
            with running_lab(scenario_path(args.scenario)) as info:
                return work(Login.of_lab(info))
        except Stopped as exc:
            return stopped(exc, stopped_note)


def run(args: argparse.Namespace) -> int:
    """Run the lab until Ctrl+C, SIGTERM or SIGHUP (exit 128 + the signal, the lab stopped)."""
    with stop_on_signals("SIGINT", "SIGTERM", "SIGHUP"):
        try:
            scenario = scenario_path(args.scenario)
            with running_lab(
                scenario, port=args.port, filler_vms=args.filler_vms, delay_ms=args.delay_ms
            ) as info:
                ready = {
                    "url": info.url,
                    "host": info.host,
                    "port": info.port,
                    "user": info.user,
                    "password": info.password,
                    "thumbprint_sha256": info.thumbprint_sha256,
                    # For --trust-ca-fingerprint: the lab's authority, as vCenter's VMCA.
                    "ca_thumbprint_sha256": info.ca_thumbprint_sha256,
                }
                print(json.dumps(ready), flush=True)
                while True:
                    time.sleep(3600)
        except Stopped as exc:
            return stopped(exc, "the training lab is stopped")
