#!/usr/bin/env bash
# A local Ray head for `sagereport run --backend ray`, bound to loopback.
#
#   scripts/ray-local.sh up      create the virtualenv (pinned ray[default]) if needed, start the head
#   scripts/ray-local.sh down    stop it
#   scripts/ray-local.sh status  is it up? (exit 0 when the Jobs API answers)
#
# The virtualenv lives in $SAGEREPORT_RAY_VENV (default ~/.cache/sagereport/ray-venv)
# so CI runs on one machine reuse it. Without --node-ip-address Ray binds a
# non-loopback address on these machines. (Ray 2.60 still reports the
# machine's address as the node IP for its internal services; the Jobs API
# that sagereport talks to stays on 127.0.0.1 via --dashboard-host.)
set -euo pipefail

RAY_VERSION="${SAGEREPORT_RAY_VERSION:-2.60.0}"
# The driver vectorises retrieval with numpy when the cluster has it (it
# falls back to the same algorithm in pure Python, ~100x slower per item).
NUMPY_VERSION="${SAGEREPORT_NUMPY_VERSION:-2.2.6}"
VENV="${SAGEREPORT_RAY_VENV:-$HOME/.cache/sagereport/ray-venv}"
PORT="${SAGEREPORT_RAY_DASHBOARD_PORT:-8265}"
ADDRESS="http://127.0.0.1:$PORT"

ensure_venv() {
  if [ -x "$VENV/bin/ray" ] && "$VENV/bin/python" -c "import ray, sys; sys.exit(ray.__version__ != '$RAY_VERSION')" 2>/dev/null; then
    if ! "$VENV/bin/python" -c "import numpy" 2>/dev/null; then
      echo "ray-local: adding numpy==$NUMPY_VERSION to $VENV" >&2
      "$VENV/bin/pip" install --quiet --disable-pip-version-check "numpy==$NUMPY_VERSION"
    fi
    return
  fi
  echo "ray-local: creating $VENV with ray[default]==$RAY_VERSION and numpy==$NUMPY_VERSION" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "ray[default]==$RAY_VERSION" "numpy==$NUMPY_VERSION"
}

answering() {
  python3 - "$ADDRESS" <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1] + "/api/version", timeout=3).read()
except Exception:
    sys.exit(1)
PY
}

case "${1:-}" in
  up)
    ensure_venv
    if answering; then
      echo "ray-local: already up at $ADDRESS" >&2
    else
      # Jobs run `python driver.py`: put the virtualenv's python first on the PATH the head passes on.
      export PATH="$VENV/bin:$PATH"
      "$VENV/bin/ray" start --head --node-ip-address 127.0.0.1 --dashboard-host 127.0.0.1 \
        --dashboard-port "$PORT" --num-cpus "${SAGEREPORT_RAY_CPUS:-2}" --disable-usage-stats >&2
      for _ in $(seq 1 60); do
        answering && break
        sleep 1
      done
      answering || { echo "ray-local: the head started but $ADDRESS/api/version does not answer" >&2; exit 1; }
    fi
    echo "export RAY_ADDRESS=$ADDRESS"
    ;;
  down)
    if [ -x "$VENV/bin/ray" ]; then
      "$VENV/bin/ray" stop --force >&2 || true
    fi
    ;;
  status)
    if answering; then
      echo "ray-local: up at $ADDRESS"
    else
      echo "ray-local: not answering at $ADDRESS" >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: scripts/ray-local.sh up|down|status" >&2
    exit 2
    ;;
esac
