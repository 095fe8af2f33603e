#!/usr/bin/env bash
# Build the Pub/Sub fake (tests/standins/pstest/main.go) into .tools/pstest, offline,
# from Debian's golang-go and golang-google-cloud-dev (scripts/install_system.sh).
# A no-op when the binary is newer than its source.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.tools/pstest
src=tests/standins/pstest/main.go
if [ -x "$out" ] && [ "$out" -nt "$src" ]; then
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "pstest: 'go' missing; run 'make system' (Debian golang-go golang-google-cloud-dev)" >&2
  exit 1
fi
if [ ! -d /usr/share/gocode/src/cloud.google.com/go/pubsub/pstest ]; then
  echo "pstest: Go sources missing; apt-get install golang-google-cloud-dev" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src/pstest-server" .tools
cp "$src" "$work/src/pstest-server/main.go"
(
  cd "$work/src/pstest-server"
  GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOCACHE="$work/cache" go build -o pstest-server .
)
mv "$work/src/pstest-server/pstest-server" "$out"
echo "built $out"
