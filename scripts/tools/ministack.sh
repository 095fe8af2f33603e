#!/usr/bin/env bash
# Installs MiniStack (PyPI `ministack`, a local AWS emulator that takes a real
# `terraform apply`; tests/e2e) into its own virtual environment: it pins botocore,
# so it can not share .venv. boto3 goes in too, since MiniStack runs the Lambda
# code on its own interpreter and the functions import boto3 as on AWS.
# Idempotent: a second run with the pinned versions in place is a no-op.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${ROOT}/.tools/ministack-venv"
VERSION="1.5.33"
BOTO3="1.43.106"  # the release matching the botocore MiniStack 1.5.33 pins
PYTHON="${PYTHON:-python3}"

if [ -x "${VENV}/bin/python" ] \
  && "${VENV}/bin/python" -m pip show ministack 2>/dev/null | grep -qx "Version: ${VERSION}" \
  && "${VENV}/bin/python" -m pip show boto3 2>/dev/null | grep -qx "Version: ${BOTO3}"; then
  echo "ministack ${VERSION} already in ${VENV}"
  exit 0
fi

mkdir -p "${ROOT}/.tools"
"${PYTHON}" -m venv "${VENV}"
"${VENV}/bin/python" -m pip install --quiet --disable-pip-version-check \
  "ministack==${VERSION}" "boto3==${BOTO3}"
echo "ministack ${VERSION} installed in ${VENV}"
