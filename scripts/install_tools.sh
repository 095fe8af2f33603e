#!/usr/bin/env bash
# Tools that cannot share the project's environment (EMULATORS.md): each script
# below installs one into .tools/ and is a no-op when it is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
for script in scripts/tools/*.sh; do
  [ -e "$script" ] || continue
  bash "$script"
done
