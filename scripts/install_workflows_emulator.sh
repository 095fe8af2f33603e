#!/usr/bin/env bash
# Installs the Cloud Workflows stand-in (PyPI workflows-emulator) into its own
# virtual environment: its pins do not resolve together with cdktn's, so it can
# not live in .venv. Idempotent: a second run with the venv in place is a no-op.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROOT}/.tools/workflows-emulator-venv"
VERSION="1.10.0"
PYTHON="${PYTHON:-python3}"

if [ -x "${VENV}/bin/workflows-emulator" ] \
  && "${VENV}/bin/python" -m pip show workflows-emulator 2>/dev/null | grep -qx "Version: ${VERSION}"; then
  echo "workflows-emulator ${VERSION} already in ${VENV}"
  exit 0
fi

mkdir -p "${ROOT}/.tools"
"${PYTHON}" -m venv "${VENV}"
"${VENV}/bin/python" -m pip install --quiet --disable-pip-version-check "workflows-emulator==${VERSION}"
echo "workflows-emulator ${VERSION} installed in ${VENV}"
