"""Bad input: a damaged journal file (cut short, hand-edited, from a newer version, not text).

``checkpoint-wizard journal`` on it must list every entry whose lines are intact, report each
bad line by number, exit 0 and never crash; the file itself is never rewritten (nothing lost).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.reliability.figures import current_size, record
from wizard import cli, paths
from wizard.audit import Journal, VmIdentity

SETTINGS = settings(
    max_examples=current_size().examples,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def real_journal_lines() -> list[bytes]:
    """Three finished entries written by the product itself (one per line group)."""
    journal = Journal(paths.data_dir() / "seed.jsonl")
    for i in range(3):
        vm = VmIdentity(f"VM {i} ü/%", f"vm-{i}", f"uuid-{i}")
        change = {"target": "extra_config", "key": "migrate.baseCptCacheSize", "from": None,
                  "to": "16777216"}  # fmt: skip
        entry = journal.begin(
            action="apply", vcenter="vc", user="u", vm=vm, remedy="raise_buffer", changes=[change]
        )
        journal.intent(entry, "reconfigure")
        journal.outcome(entry, "reconfigure", "succeeded", task_id=f"task-{i}")
        journal.end(entry, "applied")
    data = journal.path.read_bytes()
    journal.path.unlink()
    return data.splitlines(keepends=True)


BAD_LINES = st.one_of(
    st.binary(max_size=60),
    st.text(max_size=60).map(str.encode),
    st.sampled_from(
        [b'{"v": 99, "entry": "zz", "phase": "begin", "step": "apply", "vm": {}}\n',
         b'{"v": 2, "entry": "new", "phase": "begin", "step": "apply", "future": [1, 2],'
         b' "vm": {"name": "n", "moref": "vm-9", "instance_uuid": "u"}}\n',
         b'{"v": true, "entry": 5, "phase": "end"}\n', b"[" * 100_000 + b"\n",
         b'{"v": 1, "entry": "x", "phase": "begin", "vm": {"name": 1, "moref": [], '
         b'"instance_uuid": null}}\n', b'{"v": 1e999}\n', b"\xff\xfe\x00\n", b"NaN\n",
         b'{"v": 1, "entry": "e", "phase": "end", "outcome": {"a": 1}}\n']
    ),
)  # fmt: skip


@st.composite
def damaged(draw: st.DrawFn) -> tuple[bytes, int]:
    """A damaged journal, and how many of the real entries it must still list."""
    lines = real_journal_lines()
    groups = [lines[i * 4 : i * 4 + 4] for i in range(3)]
    intact = 3
    how = draw(st.sampled_from(["cut", "insert", "edit", "newer"]))
    if how == "cut":  # a crash mid-write: the file ends inside the last entry
        last = b"".join(groups[2])
        keep = draw(st.integers(0, len(last) - 1))
        body = b"".join(groups[0] + groups[1]) + last[:keep]
        return body, 2
    if how == "insert":  # junk lines between entries
        out = b""
        for group in groups:
            out += b"".join(group)
            for bad in draw(st.lists(BAD_LINES, max_size=3)):
                out += bad if bad.endswith(b"\n") else bad + b"\n"
        return out, intact
    if how == "edit":  # a hand edit of one record of the middle entry
        rec = json.loads(groups[1][draw(st.integers(1, 3))])
        key = draw(st.sampled_from(sorted(rec)))
        rec[key] = draw(st.none() | st.integers() | st.text(max_size=10) | st.just([]))
        edited = list(groups[1])
        edited[1] = json.dumps(rec).encode() + b"\n"
        return b"".join(groups[0] + edited + groups[2]), 2  # entry 1 may or may not survive
    newer = json.loads(groups[2][0])
    newer["v"] = draw(st.integers(2, 10**6))
    newer["added_later"] = {"x": [1, 2, 3]}
    return b"".join(groups[0] + groups[1]) + json.dumps(newer).encode() + b"\n", 2


def run_journal(*extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["journal", *extra])
    return code, out.getvalue(), err.getvalue()


def test_the_journal_command_lists_what_it_can_from_a_damaged_file(hermetic_basedir: Path) -> None:
    path = paths.data_dir() / "journal.jsonl"
    tried = [0]

    @SETTINGS
    @given(damaged())
    @example((b"[" * 100_000 + b"\n", 0))
    def prop(case: tuple[bytes, int]) -> None:
        data, at_least = case
        tried[0] += 1
        path.write_bytes(data)
        code, out, err = run_journal()
        assert code == 0, err
        assert "Traceback" not in err
        listed = sum(f"(vm-{i})" in out for i in range(3))
        assert listed >= at_least, out
        code, out, err = run_journal("--json")
        assert code == 0, err
        doc = json.loads(out)
        bad_lines = {p["line"] for p in doc["problems"]}
        for problem in doc["problems"]:
            assert problem["reason"]
        assert all(isinstance(n, int) and n >= 1 for n in bad_lines)
        assert path.read_bytes() == data  # reading never rewrites: nothing is lost

    prop()
    record("bad_inputs", kind="journal files", tried=tried[0])


def test_a_record_with_a_list_or_object_where_text_belongs_is_reported(
    hermetic_basedir: Path,
) -> None:
    """Found by the full run: ``"phase": []`` (hand-edited) crashed the journal command."""
    lines = real_journal_lines()
    odd: list[object] = [[], {"a": 1}, 3.5]
    for bad in odd:
        rec = json.loads(lines[1])
        rec["phase"] = bad
        path = paths.data_dir() / "journal.jsonl"
        path.write_bytes(b"".join([lines[0], json.dumps(rec).encode() + b"\n", *lines[2:]]))
        code, out, err = run_journal()
        assert code == 0, err
        assert "line 2: no entry id or phase; skipped" in out
        assert all(f"(vm-{i})" in out for i in range(3))
    record("bad_inputs", kind="journal files", tried=3)
