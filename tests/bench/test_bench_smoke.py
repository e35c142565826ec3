"""The benchmarks at smoke size: every figure is produced (no timing is asserted here).

The timings themselves are for people, not for CI: ``python -m tests.bench.run`` prints them
with the targets they are held against.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.lab import lab_binary_for_tests

pytestmark = [pytest.mark.lab, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def test_every_figure_is_produced(tmp_path: Path) -> None:
    lab_binary_for_tests()  # skips where the lab cannot be built
    out = tmp_path / "figures.json"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    subprocess.run(
        [sys.executable, "-m", "tests.bench.run", "--size", "smoke", "--json", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=240,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    # the benchmarks' labs and windows clean up after themselves
    assert sorted(p.name for p in scratch.iterdir()) == []
    figures = json.loads(out.read_text(encoding="utf-8"))
    inventory = figures["inventory"][0]
    for key in (
        "list_vms_s",
        "first_rows_s",
        "streamed_s",
        "floor_s",
        "wire_bytes",
        "pyvmomi_bulk_s",
        "naive_s",
        "go_s",
    ):
        assert inventory[key] > 0, key
    assert [t["vms"] for t in figures["ticket"]] == [25, 1000]
    assert all(t["ticket_round_trips"] > 0 and t["ticket_s"] > 0 for t in figures["ticket"])
    assert all(s["scan_round_trips"] > 0 and s["scan_s"] > 0 for s in figures["scan"])
    assert [f["latency_ms"] for f in figures["latency"]] == [0, 50]
    for f in figures["latency"]:
        assert f["check_verdict_s"] > 0
        assert f["naive_s"] > 0
        assert f["go_s"] > 0
    assert figures["latency"][1]["ticket_critical"] > 0
    assert [f["latency_ms"] for f in figures["gui_verdict"]] == [0, 50]
    for f in figures["gui_verdict"]:
        assert f["verdict_s"] > 0
        assert f["critical"] > 0
    (gui_list,) = figures["gui_list"]
    assert gui_list["vms"] == 1000
    assert gui_list["first_rows_s"] > 0
    assert gui_list["whole_s"] >= gui_list["first_rows_s"]
    assert figures["cold_start"]["first_paint_s"] > 0
    assert figures["cold_start"]["connect_page_s"] > 0
    assert figures["gui_stall"]["stall_in_flight_ms"]
    assert figures["memory"]["rows"] == 1000
    assert figures["memory"]["peak_rss_mib"] > 0
    assert len(figures["targets"]) == 14
    loops = figures["machine"]["loop_s"]
    assert len(loops) > 10  # one as each benchmark starts, one at the end
    assert all(x > 0 for x in loops)
    assert len(figures["machine"]["two_loops_s"]) == len(loops)
    # The README's tables come from a run's figures: every target and every latency has a row.
    tables = subprocess.run(
        [sys.executable, "-m", "tests.bench.run", "--markdown", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    rows = [line for line in tables.splitlines() if line.startswith("| ")]
    for target in figures["targets"]:
        assert any(line.startswith(f"| {target['target']} |") for line in rows), target
    for f in figures["latency"]:
        assert any(
            line.startswith(f"| {f['latency_ms']} ms | {f['check_verdict_s']:.2f} s")
            for line in rows
        )
    assert any(line.startswith("| `check --all --json`") for line in rows)
