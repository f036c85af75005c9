#!/usr/bin/env bash
# The demo cycle a user runs, as a test (run by `make molecule` in a lane, or alone):
#   make demo, make demo-down, make demo, PURGE=1 make demo-down
# each must succeed, the second demo on the image-cache volume the first one left behind (with a
# fresh .demo/: new secrets, a new n8n encryption key, and the ufw firewall backend instead of
# nftables), and each demo's summary must show every service healthy, every MCP handshake working,
# n8n ready, every Prometheus target up with no alert firing, and no container answering a LAN neighbour.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
log=${DEMO_CYCLE_LOG:-build/demo-cycle}
mkdir -p "$(dirname "$log")"

check_summary() {
  local out=$1 step=$2 bad=0
  for host in time.example.com notes.example.com n8n.example.com; do
    line=$(grep -E "^$host " "$out" || true)
    [ -n "$line" ] || { echo "$step: no summary line for $host" >&2; bad=1; continue; }
    grep -q " healthy " <<<"$line" || { echo "$step: $host is not healthy: $line" >&2; bad=1; }
    case $host in
      n8n.*) grep -q "readiness: 200" <<<"$line" || { echo "$step: n8n is not ready: $line" >&2; bad=1; } ;;
      *) grep -qE -- "-> ok$" <<<"$line" || { echo "$step: MCP handshake failed: $line" >&2; bad=1; } ;;
    esac
  done
  # The monitoring: every target up, the three services probed (MCP initialize, n8n readiness), nothing firing.
  line=$(grep -E "^monitoring: " "$out" || true)
  grep -qE "^monitoring: ([0-9]+)/\1 targets up; probes: n8n ok, notes ok, time ok; alerts firing: none$" <<<"$line" ||
    { echo "$step: monitoring is not all well: ${line:-no monitoring line}" >&2; bad=1; }
  # The docker role's container guard: a LAN neighbour that routes the containers' own addresses
  # through the home server reaches none of them.
  line=$(grep -E "^guard: " "$out" || true)
  grep -qE "answering a LAN neighbour .*: none \(of [1-9][0-9]* tried" <<<"$line" ||
    { echo "$step: the neighbour attack was not refused: ${line:-no guard line}" >&2; bad=1; }
  return "$bad"
}

check_down() {
  local out=$1 step=$2
  grep -q "left in the emulated account: 0 applications, 0 tunnels, 0 tunnel DNS records" "$out" ||
    { echo "$step: teardown left objects behind: $(grep 'left in' "$out")" >&2; return 1; }
}

step() {
  local name=$1 started=$SECONDS
  shift
  echo "== demo cycle: $name"
  if ! "$@" >"$log-$name.log" 2>&1; then
    tail -n 40 "$log-$name.log" >&2
    echo "demo cycle: '$name' failed (full log: $log-$name.log)" >&2
    exit 1
  fi
  echo "   $name: $((SECONDS - started)) s"
}

started=$SECONDS
# Start from nothing: no demo state, no cached demo volume.
PURGE=1 scripts/demo.sh down >/dev/null 2>&1 || true
step up-1 scripts/demo.sh up
check_summary "$log-up-1.log" up-1
step down-1 scripts/demo.sh down
check_down "$log-down-1.log" down-1
docker volume inspect homelab-mcp-edge-demo-docker >/dev/null ||
  { echo "demo-down without PURGE removed the image-cache volume" >&2; exit 1; }
# The second demo uses the ufw firewall backend (the first nftables): the guard holds with both.
step up-2 env DEMO_FIREWALL=ufw scripts/demo.sh up
check_summary "$log-up-2.log" up-2
step down-purge env PURGE=1 scripts/demo.sh down
check_down "$log-down-purge.log" down-purge
if docker volume inspect homelab-mcp-edge-demo-docker >/dev/null 2>&1; then
  echo "PURGE=1 make demo-down left the image-cache volume" >&2
  exit 1
fi
[ ! -e .demo ] || { echo "demo-down left .demo/" >&2; exit 1; }
echo "demo cycle passed in $((SECONDS - started)) s"
