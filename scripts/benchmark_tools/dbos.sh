#!/usr/bin/env bash
# DBOS Transact (PyPI dbos) in its own virtual environment, for benchmarks/workflows_local.py:
# its pins (sqlalchemy, psycopg, ...) are kept apart from the project's. A no-op when present.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.tools/dbos-venv
version=3.4.0
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('dbos') != '$version')" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "dbos==$version"
echo "installed dbos $version in $venv"
