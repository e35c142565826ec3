"""The class report with exams, and a scenario export: how long a trainer waits.

    .venv/bin/python -m tests.bench.bench_class_report

Writes the sample class (12 trainees x 5 cases of saved debriefs, some tried twice, plus one
signed exam result file per trainee, one of them edited), then times ``build_report`` with the
session's key (every exam signature checked) and ``render_html``; and starts the lab on a bundled
scenario and times reading its ticket VM and turning it into a scenario (``collect_facts`` +
``export_scenario``, as ``scenario export`` does). Each figure is the median of five runs.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from tests.bench.common import median, timed
from tests.helpers.class_results import EXAM_KEY, TRAINEES, write_class, write_exam_class
from tests.helpers.lab import lab_binary_for_tests
from wizard.lab.export import export_scenario
from wizard.lab.process import LabProcess
from wizard.lab.scenario import bundled_scenarios_dir
from wizard.training_report import build_report, render_html
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.inventory import resolve_vm
from wizard.vsphere.session import Session, parse_endpoint
from wizard.vsphere.tls import JsonPinStore, TrustPolicy

RUNS = 5


def report_figures(folder: Path) -> dict[str, object]:
    debriefs = write_class(folder)
    exams = write_exam_class(folder / "exams", edited=(TRAINEES[3],))
    build_s, _ = timed(lambda: build_report(folder, key=EXAM_KEY), RUNS)
    report = build_report(folder, key=EXAM_KEY)
    render_s, _ = timed(lambda: render_html(report), RUNS)
    page = render_html(report)
    return {
        "files": len(debriefs) + len(exams),
        "attempts": len(report.attempts),
        "build_s": median(build_s),
        "render_s": median(render_s),
        "page_kb": round(len(page.encode()) / 1024, 1),
    }


def export_figures() -> dict[str, object]:
    scenario = bundled_scenarios_dir() / "dual-screen-win7.json"
    with LabProcess(scenario, binary=lab_binary_for_tests()) as lab:
        info = lab.info
        trust = TrustPolicy(pins=JsonPinStore(), expected_fingerprint=info.thumbprint_sha256)
        endpoint = parse_endpoint(f"{info.host}:{info.port}")
        with Session.connect(endpoint, info.user, info.password, trust=trust) as s:

            def once() -> object:
                facts = collect_facts(s, resolve_vm(s, "HD-W7-042").moref)
                return export_scenario(facts, user=info.user, scenario_id="bench")

            once()  # warm up
            seconds, _ = timed(once, RUNS)
    return {"export_s": median(seconds)}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        figures = {"class_report": report_figures(Path(tmp)), "export": export_figures()}
    r: dict[str, object] = figures["class_report"]
    e: dict[str, object] = figures["export"]
    sys.stdout.write(
        f"class report: {r['files']} files, {r['attempts']} attempts: read and checked in "
        f"{r['build_s']} s, rendered in {r['render_s']} s ({r['page_kb']} KB)\n"
        f"scenario export of one VM from the lab: {e['export_s']} s\n"
        f"{json.dumps(figures)}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
