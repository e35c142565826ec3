"""The reliability report: run the harness and print the figures.

    .venv/bin/python -m tests.reliability.report [--size ci|full]

It runs the reliability tests (``tests/reliability``, ``tests/integration/test_tls_*.py``,
``tests/unit/test_bad_input*.py``) under pytest in a child process at the size asked for, each
test appending its figures to a tally file, and prints the sums. The exit code is pytest's: 0
only when every test passed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.reliability.figures import ENV_SIZE, ENV_TALLY, SIZES

REPO = Path(__file__).resolve().parents[2]
TARGETS = [
    "tests/reliability",
    "tests/integration/test_safe_apply.py",
    "tests/integration/test_apply_cli_interrupts.py",
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "tests/integration").glob("test_tls_*.py")),
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "tests/unit").glob("test_bad_input*.py")),
]


def run(size: str, tally: Path, extra: list[str]) -> tuple[int, float, str]:
    env = dict(os.environ, **{ENV_SIZE: size, ENV_TALLY: str(tally)})
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    cmd = [sys.executable, "-m", "pytest", *TARGETS, "-q", "-p", "no:cacheprovider"]
    cmd += ["-o", "timeout=7200", *extra]
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    last = [line for line in done.stdout.splitlines() if line.strip()][-1:] or ["(no output)"]
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-20000:] + done.stderr[-5000:])
    return done.returncode, time.monotonic() - started, last[0]


def figures(tally: Path) -> dict[str, Any]:
    rows = [json.loads(line) for line in tally.read_text(encoding="utf-8").splitlines() if line]
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by[row["area"]].append(row)
    faults = by["faults"]
    soak = by["soak"][-1] if by["soak"] else {}
    return {
        "faults": faults,
        "injected": sum(r["injected"] for r in faults),
        "survived": sum(r["survived"] for r in faults),
        "orphans": sum(r["sessions"] for r in by["faults_connect_orphans"]),
        "bad_inputs": by["bad_inputs"],
        "secrets": by["secrets"],
        "soak": soak,
        "tls": [r["check"] for r in by["tls"]],
        "concurrency": [r["scenario"] for r in by["concurrency"]],
        "interruptions": by["interruptions"],
    }


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def render(size: str, f: dict[str, Any], seconds: float, summary: str) -> str:
    out = [f"Reliability report ({size} size, {seconds:.0f} s; pytest: {summary})", ""]
    out.append(f"Faults injected and survived:     {f['survived']} of {f['injected']}")
    for r in f["faults"]:
        out.append(
            f"  {r['op']:<22} steps {r['steps']:>3}  injected {r['injected']:>4}  "
            f"survived {r['survived']:>4}  problems {r['problems']}"
        )
    out.append(
        f"  (lost answers to Login/Logout left {f['orphans']} server-side sessions for vCenter's "
        "idle timeout to end)"
    )
    runs = f["interruptions"]
    out.append(
        f"Runs broken, then finished by the next run: {sum(r['survived'] for r in runs)} of "
        f"{sum(r['injected'] for r in runs)}"
    )
    for r in runs:
        broken = ", ".join(f"{k} {v}" for k, v in sorted(r["kinds"].items()))
        out.append(
            f"  {r['op']:<26} points {r['points']:>3}  writes {r['writes']:>3}  ({broken})  "
            f"problems {r['problems']}"
        )
    kinds: dict[str, int] = defaultdict(int)
    for r in f["bad_inputs"]:
        kinds[r["kind"]] += r["tried"]
    out.append(f"Bad inputs tried:                 {sum(kinds.values())}")
    out += [f"  {k:<34} {v}" for k, v in sorted(kinds.items())]
    hits = sum(r["hits"] for r in f["secrets"])
    places = sum(r["places"] for r in f["secrets"])
    flows = ", ".join(r["flow"] for r in f["secrets"])
    out.append(f"Secrets found:                    {hits} (in {places} places searched; {flows})")
    s = f["soak"]
    if s:
        out.append(
            f"Soak memory growth:               {mib(s['rss_growth'])} "
            f"(bound {mib(s['rss_bound'])}; {s['checks']} checks, "
            f"{s['cycles']} apply/undo cycles, {s['seconds']} s)"
        )
        out.append(f"Sessions leaked:                  {s['sessions_leaked']}")
        out.append(
            f"Threads/processes leaked:         {s['threads_leaked']}/{s['processes_leaked']} "
            f"(file descriptors: {s['fds_leaked']})"
        )
    out.append(f"TLS checks passed:                {len(f['tls'])}")
    out += [f"  {c}" for c in f["tls"]]
    out.append(f"Concurrency scenarios refused:    {len(f['concurrency'])} "
               f"({', '.join(f['concurrency'])})")  # fmt: skip
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.report")
    parser.add_argument("--size", choices=sorted(SIZES), default="ci")
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest (e.g. -x)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        tally = Path(tmp) / "tally.jsonl"
        tally.touch()
        code, seconds, summary = run(args.size, tally, args.pytest_args)
        sys.stdout.write(render(args.size, figures(tally), seconds, summary) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
