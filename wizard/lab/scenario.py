"""Training scenarios, format 1: load and validate them, list them for the picker.

A scenario describes one small vCenter inventory (clusters, hosts, VMs, users) that the lab
serves, and what a trainee should conclude about it (``expect``). The lab (Go, in
``resources/lab/scenario.go``) reads the same files by the same rules, and both must judge every
file alike: accept it, or refuse it naming the same field (``tests/helpers/scenario_corpus.py``
holds the files both are tested on). The rules both apply:

- the file: a regular file (never a pipe, device or folder: reading one could wait forever) of at
  most 2 MB, UTF-8, with at most one byte-order mark (Windows editors write one), JSON nested at
  most 64 levels deep, without NaN or Infinity, without a ``\\u`` escape that is half of a UTF-16
  pair, and without a key given twice in one object;
- the fields are checked in one fixed order, so a file with two mistakes gets the same first
  complaint from both: the top level (its format first), then id, title, briefing, login, users,
  filler_vms, clusters, vms, expect, ticket, difficulty, teaches, datacenter, vm_of_interest,
  certificate, $schema;
  within a VM: name, host, hardware_version, guest_id, tools_guest_id, power_state,
  tools_running, screen, video, extra_config, upgrade_policy, history;
- the bounds: filler_vms 0 to 20,000, a screen side 1 to 16,384 pixels, displays 1 to 10,
  vram_kb 1 to 4,194,304 (4 GB), names of VMs, hosts, clusters and the datacenter at most 80
  characters, the id at most 64;
- text is "empty" when it holds only what Python's ``str.strip()`` removes, and holds no
  character that XML cannot carry (control characters other than tab, line feed and carriage
  return; U+FFFE, U+FFFF): vCenter's SOAP could not send it;
- a field path names object keys as ``.key`` when the key is an identifier and ``["key"]``
  (JSON-quoted, cut at 40 characters) otherwise; keys that are names (extra_config settings,
  expect's VMs) are always ``["key"]``;
- control, bidirectional and invisible format characters in a message are written as ``\\uXXXX``.

The format's reference, for authors and for both readers, is
``resources/scenarios/README.md``.

Every problem, whatever the input, is a :class:`ScenarioError` naming the field path and saying
what to do. Nothing is ignored silently: an unknown field, a key given twice in one object or a
value of the wrong type is refused, so a typo never turns into a default.

This module loads and lists scenarios and is where the rest of the program imports them from.
The work is done below it: :mod:`~wizard.lab.scenario_file` reads the file and its JSON
strictly, :mod:`~wizard.lab.scenario_parse` checks the fields in their order and builds the
:class:`Scenario` that :mod:`~wizard.lab.scenario_model` defines with its limits.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

from wizard import paths
from wizard.lab.scenario_file import decode_json, read_scenario_file
from wizard.lab.scenario_model import (
    DEFAULT_SCENARIO_ID,
    FORMAT,
    HARDWARE_VERSION_PATTERN,
    ID_PATTERN,
    MAX_DISPLAYS,
    MAX_FILE_BYTES,
    MAX_FILLER_VMS,
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NESTING,
    MAX_SCREEN_SIDE,
    MAX_VM_NAME_LENGTH,
    MAX_VRAM_KB,
    CertificateSpec,
    ClusterSpec,
    Difficulty,
    Expectation,
    HaSpec,
    HistorySpec,
    HostSpec,
    LoginSpec,
    PowerState,
    Role,
    Scenario,
    ScenarioError,
    ScenarioListing,
    UpgradePolicyName,
    UpgradePolicySpec,
    UserSpec,
    VideoSpec,
    VmSpec,
    escape_controls,
)
from wizard.lab.scenario_parse import parse_scenario


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file.

    Args:
        path: the ``.json`` file.

    Returns:
        The scenario.

    Raises:
        ScenarioError: the file cannot be read (or is not a regular file: a named pipe is
            refused at once, never waited on), is not JSON, or is not a valid scenario.
    """
    return parse_scenario_json(read_scenario_file(path), str(path))


SCHEMA_FILE_NAME: Final = "scenario.schema.json"
"""The format's JSON Schema, beside the bundled scenarios (for editors; not a scenario)."""


def is_scenario_file(path: Path) -> bool:
    """Whether a folder's entry is listed as a scenario: a ``.json`` file that is neither hidden
    nor a JSON Schema (``*.schema.json``, like :data:`SCHEMA_FILE_NAME`)."""
    name = path.name.lower()
    return name.endswith(".json") and not name.startswith(".") and not name.endswith(".schema.json")


def bundled_scenarios_dir() -> Path:
    """The folder of the scenarios that ship with the product."""
    return paths.repo_resources() / "scenarios"


def bundled_scenario_files() -> list[Path]:
    """The bundled scenario files, by name (the schema beside them is not one)."""
    folder = bundled_scenarios_dir()
    return sorted((p for p in folder.glob("*.json") if is_scenario_file(p)), key=lambda p: p.name)


def list_scenarios(folders: Iterable[Path]) -> list[ScenarioListing]:
    """Every scenario file in ``folders`` (:func:`is_scenario_file`: ``*.json`` but hidden files
    and JSON Schemas), loaded or with the reason it cannot be used.

    Folders are read in the order given (the bundled one first), files by name. A folder that
    does not exist is skipped; one that cannot be read gives a listing with the error. A
    scenario whose id an earlier file already uses is listed as an error, so the picker never
    shows two scenarios under one id. Never raises.

    Args:
        folders: the folders to read, e.g. the bundled folder and the trainer's folder.

    Returns:
        One listing per file (and per unreadable folder).
    """
    listings: list[ScenarioListing] = []
    ids: dict[str, Path] = {}
    for folder in folders:
        try:
            if not folder.is_dir():
                continue
            files = sorted(
                (p for p in folder.iterdir() if is_scenario_file(p)),
                key=lambda p: p.name.casefold(),
            )
        except OSError as exc:
            listings.append(
                ScenarioListing(folder, None, f"{folder}: the folder cannot be read: {exc}")
            )
            continue
        for file in files:
            try:
                scenario = load_scenario(file)
            except ScenarioError as exc:
                listings.append(ScenarioListing(file, None, str(exc)))
                continue
            if scenario.id in ids:
                listings.append(
                    ScenarioListing(
                        file,
                        None,
                        f'{file}: id: "{scenario.id}" is already used by {ids[scenario.id]}. '
                        "Give this scenario its own id (and file name)",
                    )
                )
                continue
            ids[scenario.id] = file
            listings.append(ScenarioListing(file, scenario, None))
    return listings


def parse_scenario_json(text: str | bytes, source: str) -> Scenario:
    """Decode JSON text (UTF-8, one byte-order mark allowed) and validate it as a scenario.

    Raises:
        ScenarioError: for invalid JSON (with line and column) or an invalid scenario.
    """
    return parse_scenario(decode_json(text, source), source)


__all__ = [
    "DEFAULT_SCENARIO_ID",
    "FORMAT",
    "HARDWARE_VERSION_PATTERN",
    "ID_PATTERN",
    "MAX_DISPLAYS",
    "MAX_FILE_BYTES",
    "MAX_FILLER_VMS",
    "MAX_ID_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_NESTING",
    "MAX_SCREEN_SIDE",
    "MAX_VM_NAME_LENGTH",
    "MAX_VRAM_KB",
    "SCHEMA_FILE_NAME",
    "CertificateSpec",
    "ClusterSpec",
    "Difficulty",
    "Expectation",
    "HaSpec",
    "HistorySpec",
    "HostSpec",
    "LoginSpec",
    "PowerState",
    "Role",
    "Scenario",
    "ScenarioError",
    "ScenarioListing",
    "UpgradePolicyName",
    "UpgradePolicySpec",
    "UserSpec",
    "VideoSpec",
    "VmSpec",
    "bundled_scenario_files",
    "bundled_scenarios_dir",
    "escape_controls",
    "is_scenario_file",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
    "parse_scenario_json",
    "read_scenario_file",
]
