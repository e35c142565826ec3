"""The repository documents itself: it cites no notes kept outside it, and its pages point at
files and functions that exist.

The design notes the team once kept beside the repository are not shipped and not versioned
with the code; a comment or a message that sends a reader there sends them nowhere. What a
maintainer needs is in the README ("Architecture", "How the article is read"),
``resources/scenarios/README.md`` (the scenario format) and ``resources/lab/README.md`` (the
lab), and in the code's own docstrings.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.imports import module_files

ROOT = Path(__file__).resolve().parents[1]

# Spelt so that this file does not match itself.
OUTSIDE_NOTES = re.compile(
    r"DESIGN[.]md|KB[-]RULES|LAB[-]NOTES|PLATFORM[-]NOTES|STYLE[.]md|shared[/]",
)

PAGES = [
    ROOT / "README.md",
    ROOT / "resources/scenarios/README.md",
    ROOT / "resources/lab/README.md",
]


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    ).stdout
    return [ROOT / name for name in out.decode("utf-8").split("\0") if name]


def test_no_tracked_file_cites_the_outside_notes() -> None:
    found = []
    for path in tracked_files():
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # deleted in the work tree, not yet in the index
            continue
        if b"\0" in data:
            continue  # images, icons
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            if OUTSIDE_NOTES.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "cite the repository instead:\n" + "\n".join(found)


def test_the_pattern_catches_what_it_should() -> None:
    samples = [("see DESIGN", ".md"), ("(KB-", "RULES.md, C4)"), ("/work/shared", "/notes")]
    for text in ("".join(parts) for parts in samples):
        assert OUTSIDE_NOTES.search(text), text
    assert not OUTSIDE_NOTES.search("resources/scenarios/README.md")


def _quoted(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # examples, not references
    return re.findall(r"`([^`\n]+)`", text)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_path_a_page_cites_exists(page: Path) -> None:
    cited = [
        token
        for token in _quoted(page)
        if re.fullmatch(r"(wizard|resources|tests|packaging|\.github)/[\w./-]*", token)
    ]
    assert cited, "the page cites files"
    missing = [token for token in cited if not (ROOT / token).exists()]
    assert not missing, missing


def _python_names() -> set[str]:
    names: set[str] = set()
    for path in module_files().values():
        names.update(re.findall(r"^\s*(?:def|class)\s+(\w+)", path.read_text("utf-8"), re.M))
        names.update(re.findall(r"^(\w+)\s*(?::[^=\n]+)?=", path.read_text("utf-8"), re.M))
    return names


def test_every_function_the_readme_names_exists() -> None:
    names = _python_names()
    cited = [token for token in _quoted(ROOT / "README.md") if token.endswith("()")]
    assert len(cited) > 20, "the README points at the code"
    missing = [token for token in cited if token[:-2].rpartition(".")[2] not in names]
    assert not missing, missing


def test_every_module_the_pages_name_exists() -> None:
    modules = set(module_files())
    names = _python_names()
    wrong = []
    for page in PAGES:
        for token in _quoted(page):
            if not re.fullmatch(r"wizard(\.\w+)+(\(\))?", token):
                continue
            dotted = token.removesuffix("()")
            prefix = dotted
            while prefix and prefix not in modules:
                prefix = prefix.rpartition(".")[0]
            rest = dotted[len(prefix) + 1 :].split(".")[0] if dotted != prefix else ""
            if not prefix or (rest and rest not in names):
                wrong.append(f"{page.relative_to(ROOT)}: {token}")
    assert not wrong, wrong
