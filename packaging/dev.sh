#!/usr/bin/env bash
# The developer entry point behind the README's quick start.
#
#   packaging/dev.sh run  [ARGS...]   set up what is missing, then start the product on the
#                                     embedded training lab (ARGS go to `python -m wizard`)
#   packaging/dev.sh test [PYTEST...] set up what is missing, then lint, type-check and run
#                                     the whole test suite
#   packaging/dev.sh setup            only set up what is missing (used by packaging/build.sh)
#
# Both work on a fresh Debian 12 machine, as root or through sudo. They install only what is
# missing, so a second run with everything in place starts in seconds.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Debian packages: the lab's toolchain and library, and the system libraries Qt loads.
APT_PACKAGES=(
  golang-go golang-github-vmware-govmomi-dev
  python3-venv
  libegl1 libgl1 libopengl0 libglib2.0-0 libdbus-1-3 libfontconfig1 libfreetype6
  libxkbcommon0 libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
  fonts-dejavu-core
)

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_apt_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
}

ensure_venv() {
  local stamp="$VENV/.installed" want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -x "$VENV/bin/python" ]; then
    say "Creating the Python environment in .venv"
    python3 -m venv "$VENV"
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "Installing the product and its test tools into .venv"
    # pip's notes (package mirrors, setuptools' editable-install banner) go to a log that is
    # shown only when the install fails.
    local log="$VENV/pip-install.log"
    if ! { "$VENV/bin/python" -m pip install -q --disable-pip-version-check -U pip &&
      "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[test,dev]'; } \
      2>"$log"; then
      cat "$log" >&2
      exit 1
    fi
    echo "$want" >"$stamp"
  fi
}

ensure_lab() {
  # Builds the lab once per change of its Go sources (cached by content hash).
  "$VENV/bin/python" -c 'from wizard.lab.binary import lab_binary; lab_binary()' >/dev/null
}

ensure_bytecode() {
  # An installed product carries its modules' bytecode (pip and PyInstaller compile it); an
  # editable install does not, and with PYTHONDONTWRITEBYTECODE set the interpreter never caches
  # it, so every command would compile again the modules it imports (a tenth of a second of
  # CPU for `check`). Up-to-date files are skipped; a module edited later is compiled in memory
  # until the next setup, as before.
  "$VENV/bin/python" -m compileall -q -j 0 wizard >/dev/null
}

setup() {
  ensure_apt_packages
  ensure_venv
  ensure_bytecode
  ensure_lab
}

cmd=${1:-}
shift || true
case "$cmd" in
  setup)
    setup
    ;;
  run)
    setup
    exec "$VENV/bin/python" -m wizard --training "$@"
    ;;
  test)
    setup
    say "ruff"
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    say "mypy"
    "$VENV/bin/mypy"
    say "pytest"
    # Two workers (pytest-xdist): most tests wait on a lab, a child process or a timer, so two
    # at a time nearly halve the run on two cores (883 s -> 542 s here). Every test has its own
    # data folder, keyring and lab port; a test that counts processes counts its own children.
    # "-n 0" among the arguments runs them one at a time.
    QT_QPA_PLATFORM=offscreen exec "$VENV/bin/python" -m pytest -n 2 "$@"
    ;;
  *)
    echo "usage: packaging/dev.sh run [ARGS...] | test [PYTEST ARGS...] | setup" >&2
    exit 2
    ;;
esac
