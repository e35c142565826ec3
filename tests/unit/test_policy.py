"""The administrator's policy file (wizard.policy): read strictly, refused clearly, never fatal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wizard import limits, paths
from wizard.policy import (
    LOCKABLE,
    Policy,
    PolicyError,
    load_policy,
    load_policy_or_problem,
    parse_policy_json,
    policy_path,
)
from wizard.ui.settings import GuiSettings

CERT = "ab" * 32
CERT_SHOWN = ":".join(["AB"] * 32)


def parse(doc: object) -> Policy:
    return parse_policy_json(json.dumps(doc).encode(), "policy.json")


def refused(doc: object | bytes) -> PolicyError:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    with pytest.raises(PolicyError) as caught:
        parse_policy_json(raw, "policy.json")
    return caught.value


def test_a_full_policy_is_read() -> None:
    policy = parse(
        {
            "format": 1,
            "vcenters": [
                {"address": "VC01.corp.local", "certificate_sha256": CERT},
                {"address": "https://vc02.corp.local:8443/", "authority_sha256": CERT.upper()},
            ],
            "limits": {"call_timeout_s": 60, "evidence_days": 90},
            "locked": ["vcenters", "call_timeout_s"],
        }
    )
    assert [v.address for v in policy.vcenters] == ["vc01.corp.local", "vc02.corp.local:8443"]
    assert policy.vcenters[0].certificate_sha256 == CERT_SHOWN
    assert policy.vcenters[1].authority_sha256 == CERT_SHOWN
    assert policy.vcenter("vc01.CORP.local") is policy.vcenters[0]
    assert dict(policy.limits) == {"call_timeout_s": 60, "evidence_days": 90}
    assert policy.is_locked("vcenters")
    assert policy.is_locked("call_timeout_s")
    assert not policy.is_locked("evidence_days")


def test_only_the_format_is_required() -> None:
    assert parse({"format": 1}) == Policy("policy.json")


@pytest.mark.parametrize(
    ("doc", "path", "words"),
    [
        ({}, "format", "is missing"),
        ({"format": 2}, "format", "is 2"),
        ({"format": True}, "format", "is true"),
        ({"format": 1, "vcenter": []}, "vcenter", "Did you mean 'vcenters'?"),
        ({"format": 1, "vcenters": "vc01"}, "vcenters", "expected a list, got text"),
        ({"format": 1, "vcenters": ["vc01"]}, "vcenters[0]", "expected an object, got text"),
        ({"format": 1, "vcenters": [{}]}, "vcenters[0].address", "is missing"),
        ({"format": 1, "vcenters": [{"address": " "}]}, "vcenters[0].address", "empty text"),
        ({"format": 1, "vcenters": [{"address": "vc 1"}]}, "vcenters[0].address", "no blanks"),
        (
            {"format": 1, "vcenters": [{"address": "a"}, {"address": "A:443"}]},
            "vcenters[1].address",
            "listed twice",
        ),
        (
            {"format": 1, "vcenters": [{"address": "a", "certificate_sha256": "ab" * 20}]},
            "vcenters[0].certificate_sha256",
            "40 characters",
        ),
        (
            {"format": 1, "vcenters": [{"address": "a", "adress": "b"}]},
            "vcenters[0].adress",
            "Did you mean 'address'?",
        ),
        ({"format": 1, "limits": {"call_timeout_s": "60"}}, "limits.call_timeout_s", "got text"),
        ({"format": 1, "limits": {"call_timeout_s": 60.5}}, "limits.call_timeout_s", "number"),
        ({"format": 1, "limits": {"call_timeout_s": True}}, "limits.call_timeout_s", "true"),
        ({"format": 1, "limits": {"call_timeout_s": 4}}, "limits.call_timeout_s", "5 to 300"),
        ({"format": 1, "limits": {"timeout": 4}}, "limits.timeout", "unknown field"),
        ({"format": 1, "locked": "vcenters"}, "locked", "expected a list"),
        ({"format": 1, "locked": ["passwords"]}, "locked[0]", "cannot be locked"),
        ({"format": 1, "locked": ["vcenters"]}, "locked[0]", "none is listed"),
        ({"format": 1, "locked": ["evidence_days"]}, "locked[0]", "Set limits.evidence_days"),
        ([], "(top level)", "expected an object"),
    ],
)
def test_a_mistake_is_named_by_its_field(doc: object, path: str, words: str) -> None:
    error = refused(doc)
    assert error.path == path
    assert words in str(error)
    assert str(error).startswith("policy.json: ")


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b'{"format": 1,', "invalid JSON at line 1"),
        (b'{"format": 1, "format": 1}', "given twice"),
        (b'{"format": 1, "limits": {"evidence_days": NaN}}', "NaN is not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_a_broken_file_is_refused_with_a_clear_message(raw: bytes, words: str) -> None:
    error = refused(raw)
    assert error.path == "(file)"
    assert words in str(error)


def test_a_byte_order_mark_is_accepted() -> None:
    assert parse_policy_json(b'\xef\xbb\xbf{"format": 1}', "p").vcenters == ()


def test_no_file_is_no_policy(tmp_path: Path) -> None:
    assert load_policy(tmp_path / "policy.json") == Policy()


def test_a_folder_or_a_huge_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not a regular file"):
        load_policy(tmp_path)
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (64 * 1024 + 1))
    with pytest.raises(PolicyError, match="larger than 64 KB"):
        load_policy(huge)


def test_where_the_policy_is_read_from(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Tests keep every file under their own folder, the policy too.
    assert policy_path() == paths.basedir() / "policy.json"  # type: ignore[operator]
    monkeypatch.setenv("CHECKPOINT_WIZARD_POLICY", str(tmp_path / "p.json"))
    assert policy_path() == tmp_path / "p.json"
    monkeypatch.setenv("CHECKPOINT_WIZARD_POLICY", "")
    assert policy_path() is None
    monkeypatch.delenv("CHECKPOINT_WIZARD_POLICY")
    paths.set_basedir(None)
    monkeypatch.delenv("CHECKPOINT_WIZARD_BASEDIR", raising=False)
    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setenv("PROGRAMDATA", r"C:\ProgramData")
    assert str(policy_path()).replace("/", "\\") == r"C:\ProgramData\checkpoint-wizard\policy.json"
    monkeypatch.setattr("sys.platform", "linux")
    assert policy_path() == Path("/etc/checkpoint-wizard/policy.json")


def test_a_refused_file_leaves_the_product_running_on_its_defaults(
    hermetic_basedir: Path,
) -> None:
    (hermetic_basedir / "policy.json").write_text('{"format": 1, "limits": {"evidence_days": 0}}')
    policy, problem = load_policy_or_problem()
    assert policy == Policy()
    assert problem is not None
    assert "limits.evidence_days: 0 is out of range" in problem
    assert "runs with its own defaults" in problem
    settings = GuiSettings()
    assert settings.policy_problem == problem
    assert settings.evidence_days == limits.EVIDENCE_DAYS.default


def test_settings_take_the_administrators_limits(hermetic_basedir: Path) -> None:
    (hermetic_basedir / "policy.json").write_text(
        json.dumps(
            {
                "format": 1,
                "limits": {"call_timeout_s": 90, "evidence_days": 7},
                "locked": ["call_timeout_s"],
            }
        )
    )
    settings = GuiSettings()
    assert settings.policy_problem is None
    assert (settings.call_timeout_s, settings.evidence_days) == (90, 7)
    # The technician may change an unlocked limit, not a locked one.
    settings.set_limits(call_timeout_s=20, evidence_days=14, shutdown_timeout_s=600)
    again = GuiSettings()
    assert (again.call_timeout_s, again.evidence_days, again.shutdown_timeout_s) == (90, 14, 600)
    assert again.limit_locked(limits.CALL_TIMEOUT_S)
    assert not again.limit_locked(limits.EVIDENCE_DAYS)


@given(st.sampled_from(limits.LIMITS), st.integers(-(10**6), 10**6))
def test_policy_and_settings_accept_the_same_limit_values(limit: limits.Limit, value: int) -> None:
    doc = {"format": 1, "limits": {limit.key: value}}
    in_range = limit.minimum <= value <= limit.maximum
    if in_range:
        assert parse(doc).limits[limit.key] == value
    else:
        assert refused(doc).path == f"limits.{limit.key}"
    assert (limit.valid(value) == value) == in_range


def test_every_lockable_name_is_a_setting() -> None:
    assert set(LOCKABLE) == {"vcenters", *(limit.key for limit in limits.LIMITS)}


def test_the_policy_command_checks_a_file_for_the_administrator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from wizard import cli

    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "format": 1,
                "vcenters": [{"address": "vc01.corp.local", "certificate_sha256": CERT}],
                "limits": {"evidence_days": 90},
                "locked": ["vcenters"],
            }
        )
    )
    assert cli.main(["policy", str(good)]) == 0
    out = capsys.readouterr().out
    assert f"vCenter vc01.corp.local: certificate {CERT_SHOWN}" in out
    assert "vCenters: only these" in out
    assert "evidence_days = 90\n" in out

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 1, "locked": ["call_timeout_s"]}')
    assert cli.main(["policy", str(bad)]) == 2
    err = capsys.readouterr().err
    assert (
        "locked[0]: locks call_timeout_s but gives no value. Set limits.call_timeout_s too" in err
    )

    assert cli.main(["policy"]) == 0  # this computer's: none under the test's folder
    assert "No policy file at" in capsys.readouterr().out
