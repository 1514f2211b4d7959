#!/usr/bin/env bash
# npm run test:py — the kv-dump Python tests in their own virtual environment.
# Creates .venv-kvdump (gitignored) on first use and reinstalls only when requirements.txt changes;
# `test.sh --install-only` stops after that (the CI install step).
# PIP_RETRIES defaults to 0 so an offline machine with a local mirror (pip.conf) does not sit through
# pip's back-off on the unreachable default index for every package; set PIP_RETRIES to override.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${KVDUMP_VENV:-.venv-kvdump}"
REQ=scripts/kv-dump/requirements.txt
PY="${PYTHON:-python3}"
export PIP_RETRIES="${PIP_RETRIES:-0}" PIP_DISABLE_PIP_VERSION_CHECK=1
stamp="$VENV/.requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "test:py: installing $REQ into $VENV"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q -r "$REQ" 2> >(grep -v -e '^WARNING: Location' -e 'Retrying' -e 'NewConnectionError' >&2)
  echo "$want" > "$stamp"
fi
[ "${1:-}" = "--install-only" ] && exit 0
exec "$VENV/bin/python" -m pytest -q scripts/kv-dump/tests "$@"
