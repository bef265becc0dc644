#!/usr/bin/env bash
# SAGE (the published kernel, isage-kernel) for `sagereport run --backend sage`.
#
#   scripts/sage-local.sh up      create the virtualenv (Python 3.11, pinned isage-kernel) if needed, check it
#   scripts/sage-local.sh down    nothing runs between runs (each run starts its own driver); says so
#   scripts/sage-local.sh status  is the virtualenv usable? (exit 0 when SAGE's kernel imports)
#
# The virtualenv lives in $SAGEREPORT_SAGE_VENV (default ~/.cache/sagereport/sage-venv)
# so CI runs on one machine reuse it; $SAGEREPORT_SAGE_VERSION overrides the pin.
# `up` prints the export line sagereport reads (eval it). Unlike Ray there is
# no server: SAGE's LocalEnvironment runs inside the driver sagereport starts.
set -euo pipefail

SAGE_VERSION="${SAGEREPORT_SAGE_VERSION:-0.2.5.3}"
VENV="${SAGEREPORT_SAGE_VENV:-$HOME/.cache/sagereport/sage-venv}"

usable() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - "$SAGE_VERSION" <<'PY' 2>/dev/null
import sys, importlib.metadata as m
import sage.kernel.api, sage.kernel.scheduler.impl, sage.common.core  # noqa: F401
sys.exit(m.version("isage-kernel") != sys.argv[1])
PY
}

python_311() {
  # isage-kernel is tested here on Python 3.11; use it when present.
  for p in python3.11 python3; do
    if command -v "$p" >/dev/null 2>&1; then echo "$p"; return; fi
  done
  echo "sage-local: no python3 found" >&2
  exit 1
}

case "${1:-}" in
  up)
    if ! usable; then
      py="$(python_311)"
      echo "sage-local: creating $VENV with isage-kernel==$SAGE_VERSION ($("$py" --version 2>&1))" >&2
      rm -rf "$VENV"
      "$py" -m venv "$VENV"
      "$VENV/bin/pip" install --quiet --disable-pip-version-check "isage-kernel==$SAGE_VERSION" >&2
      usable || { echo "sage-local: $VENV was created but SAGE's kernel does not import" >&2; exit 1; }
    else
      echo "sage-local: $VENV has isage-kernel $SAGE_VERSION" >&2
    fi
    echo "export SAGEREPORT_SAGE_VENV=$VENV"
    ;;
  down)
    echo "sage-local: nothing to stop (no SAGE server; each run's driver exits with it). Remove $VENV to uninstall." >&2
    ;;
  status)
    if usable; then
      echo "sage-local: $VENV has isage-kernel $SAGE_VERSION"
    else
      echo "sage-local: $VENV is missing or has no isage-kernel $SAGE_VERSION (run scripts/sage-local.sh up)" >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: scripts/sage-local.sh up|down|status" >&2
    exit 2
    ;;
esac
