#!/usr/bin/env bash
# Tools that cannot share the project's environment (EMULATORS.md), each into
# .tools/ by its own script; every script is a no-op when its tool is in place.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_checkov.sh
bash scripts/install_workflows_emulator.sh
for script in scripts/tools/*.sh; do
  [ -e "$script" ] || continue
  bash "$script"
done
