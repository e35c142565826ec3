"""Opening the wizard (no command; ``--training``) and ``tour`` (the wizard walked offscreen,
a picture of every page)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from wizard.cli.exits import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, CliError
from wizard.cli.lab import scenario_path
from wizard.cli.options import scale, window_size


def add_tour_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``tour``."""
    tour = sub.add_parser(
        "tour", help="walk the wizard offscreen on a lab scenario, saving a PNG of every page"
    )
    tour.add_argument("--scenario", type=Path, required=True, metavar="FILE")
    tour.add_argument("--vm", dest="tour_vm", required=True, metavar="NAME")
    tour.add_argument("--out", type=Path, required=True, metavar="DIR")
    tour.add_argument(
        "--size",
        type=window_size,
        metavar="WxH",
        help="the window's size in logical pixels (default 1000x760; 1024x600 for a small screen)",
    )
    tour.add_argument(
        "--scale",
        type=scale,
        action="append",
        help="screen scale from 0.5 to 4; repeat for several (1, 1.5)",
    )


def no_screen() -> bool:
    """On Linux, no desktop session to open a window in (and no Qt platform chosen instead)."""
    import os

    return (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    )


def open_wizard(args: argparse.Namespace) -> int:
    """Open the wizard; in training mode on the embedded lab when asked."""
    scenario = scenario_path(args.training) if args.training is not None else None
    if no_screen():
        raise CliError(
            "there is no screen to open the wizard on (neither DISPLAY nor WAYLAND_DISPLAY is "
            "set). Run it from a desktop session, or under a virtual screen with "
            "'xvfb-run -a', or use the command line: 'checkpoint-wizard check --scenario "
            f"{scenario or scenario_path(None)} --all'.",
            EXIT_USAGE,
        )
    from wizard.ui.app import run_gui

    return run_gui(training_scenario=scenario, vm=args.vm)


def tour_command(args: argparse.Namespace) -> int:
    from wizard.ui.tour import TourError, TourVmNotFound, run_tour

    if not args.tour_vm.strip():
        raise CliError("say which VM to walk through: --vm NAME.", EXIT_USAGE)
    scenario = scenario_path(args.scenario)
    _writable_folder(args.out)
    try:
        for scale in args.scale or [1.0, 1.5]:
            for path in run_tour(scenario, args.tour_vm, args.out, scale, args.size):
                print(path)
    except TourVmNotFound as exc:
        raise CliError(
            f"the tour stopped at Choose VM: {exc} Give --vm the name of exactly one VM of the "
            "scenario.",
            EXIT_NOT_FOUND,
        ) from None
    except TourError as exc:
        raise CliError(
            f"the tour stopped: {str(exc).rstrip('.')}. Run it again; if it stops at the same "
            "place, report it with the pictures saved so far.",
            EXIT_FAILED,
        ) from None
    return EXIT_OK


def _writable_folder(path: Path) -> None:
    """Create ``path`` if needed and make sure a file can be written in it (for --out)."""
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise CliError(
            f"the pictures cannot be saved in {path} ({exc.strerror or exc}). Give --out a "
            "folder you can write to (it is created if it does not exist).",
            EXIT_USAGE,
        ) from None
