"""The PyInstaller spec and the NSIS script agree on what the frozen folder holds.

Each side names the items on its own (the spec makes them, the installer checks, installs,
shortcuts and removes them), so forgetting one side of a change fails here, before any build.
"""

from __future__ import annotations

import re
from pathlib import Path

import platformdirs.windows
import pytest

from tests.packaging.manifest import read_installer, read_spec
from wizard import paths


def test_spec_and_installer_list_the_same_items() -> None:
    spec = read_spec().items()
    installer = frozenset(read_installer().items.values())
    assert spec - installer == set(), "made by the spec, unknown to installer.nsi"
    assert installer - spec == set(), "expected by installer.nsi, not made by the spec"


def test_installer_checks_every_item_at_compile_time() -> None:
    installer = read_installer()
    assert set(installer.items) - installer.checked == set()


def test_upgrade_and_uninstall_remove_every_top_level_item() -> None:
    installer = read_installer()
    assert set(installer.top_level()) - installer.removed == set()


def test_shortcuts_and_uninstall_entry_point_at_the_gui_executable() -> None:
    installer = read_installer()
    assert installer.items["ITEM_GUI"] == "checkpoint-wizard.exe"
    shortcuts = re.findall(r'CreateShortcut "[^"]+" "([^"]+)"', installer.text)
    assert shortcuts, "no shortcut at all"
    assert set(shortcuts) == {"$INSTDIR\\${ITEM_GUI}"}
    assert 'DisplayIcon" "$INSTDIR\\${ITEM_GUI},0"' in installer.text


def test_installer_is_per_user() -> None:
    text = read_installer().text
    assert re.search(r"^RequestExecutionLevel user$", text, re.MULTILINE)
    assert re.search(r'^InstallDir "\$LOCALAPPDATA\\Programs\\', text, re.MULTILINE)
    assert "HKLM" not in text
    for value in (
        "DisplayName",
        "DisplayVersion",
        "Publisher",
        "InstallLocation",
        "UninstallString",
        "QuietUninstallString",
        "DisplayIcon",
        "EstimatedSize",
        "NoModify",
        "NoRepair",
    ):
        assert re.search(rf'WriteReg(Str|DWORD) HKCU "\$\{{UNINSTALL_KEY\}}" "{value}"', text)


def test_uninstaller_keeps_the_data_folder_platformdirs_gives_on_windows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The folder the uninstaller may remove is the one the product writes to on Windows."""
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda csidl: r"C:\LOCAL")
    windows = platformdirs.windows.Windows(paths.APP_NAME, False)

    def on_windows(path: str) -> str:  # platformdirs joins with this machine's separator
        return path.replace("/", "\\")

    installer = read_installer()
    data_dir = installer.defines["DATA_DIR"].replace("$LOCALAPPDATA", r"C:\LOCAL")
    assert on_windows(windows.user_data_dir) == data_dir
    assert on_windows(windows.user_config_dir) == data_dir
    assert on_windows(windows.user_log_dir).startswith(data_dir + "\\")
    assert on_windows(windows.user_cache_dir) == data_dir + r"\Cache"
    # Removing the whole folder is optional and off unless ticked; only the cache always goes.
    assert re.search(r'^Section /o "un\.[^"]*journal and settings', installer.text, re.MULTILINE)
    always = re.search(r'^Section "un\..*?^SectionEnd', installer.text, re.MULTILINE | re.DOTALL)
    assert always is not None
    assert 'RMDir /r "${DATA_DIR}"' not in always.group(0)


def test_the_check_fails_when_one_side_forgets_an_item(tmp_path: Path) -> None:
    spec = Path(read_spec.__defaults__[0])  # type: ignore[index]
    changed = tmp_path / "changed.spec"
    changed.write_text(
        spec.read_text(encoding="utf-8").replace(
            'OUTPUT_RESOURCES = ("scenarios", "ui")',
            'OUTPUT_RESOURCES = ("scenarios", "ui", "help")',
        ),
        encoding="utf-8",
    )
    assert read_spec(changed).items() != frozenset(read_installer().items.values())
