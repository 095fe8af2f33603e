#!/usr/bin/env bash
# Installs checkov (Terraform JSON policy checks for tests/iac) into its own
# virtual environment: it pins an older boto3 than .venv, so it can not live there.
# Idempotent: a second run with the pinned version in place is a no-op.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROOT}/.tools/checkov-venv"
VERSION="3.3.30"
PYTHON="${PYTHON:-python3}"

if [ -x "${VENV}/bin/checkov" ] \
  && "${VENV}/bin/python" -m pip show checkov 2>/dev/null | grep -qx "Version: ${VERSION}"; then
  echo "checkov ${VERSION} already in ${VENV}"
  exit 0
fi

mkdir -p "${ROOT}/.tools"
"${PYTHON}" -m venv "${VENV}"
"${VENV}/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==${VERSION}"
echo "checkov ${VERSION} installed in ${VENV}"
