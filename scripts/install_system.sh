#!/usr/bin/env bash
# Debian packages the stand-ins need; installs only what is missing (names, not
# versions: Debian 12 and 13 machines differ).
set -euo pipefail

need=()
command -v redis-server >/dev/null || need+=(redis-server)
# PostgreSQL: the tests start their own throwaway cluster from these binaries.
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v memcached >/dev/null || need+=(memcached)
command -v go >/dev/null || need+=(golang-go)
[ -d /usr/share/gocode/src/cloud.google.com/go/pubsub/pstest ] || need+=(golang-google-cloud-dev)
command -v chromium >/dev/null || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
