#!/usr/bin/env bash
# Run Molecule scenarios in parallel lanes (make molecule). Each lane runs its scenarios one after
# the other; the lanes run side by side, because most of a scenario's time is spent waiting (apt,
# image loads, containers becoming healthy), not computing. Every scenario has its own target
# container and Docker volume, so lanes never share state.
#
#   scripts/molecule-lanes.sh LANES SCENARIO...
#
# Scenarios are dealt out longest first (by the durations of the last run, in build/) to the lane
# with the least work. Each scenario's output goes to build/molecule-<scenario>.log; the failing
# lines of every failed scenario are printed at the end, and the exit status is 1 if any failed.
set -uo pipefail
lanes=${1:?usage: $0 LANES SCENARIO...}
shift
mkdir -p build
durations=build/molecule-durations
[ -s "$durations" ] || grep -v '^#' .config/molecule/durations >"$durations" 2>/dev/null || touch "$durations"

# Longest first, using the last known duration (unknown: 600 s).
ordered=$(for s in "$@"; do
  d=$(awk -v s="$s" '$1 == s {print $2}' "$durations" | tail -n 1)
  echo "${d:-600} $s"
done | sort -rn | awk '{print $2}')

declare -a load plan
for ((i = 0; i < lanes; i++)); do load[i]=0; plan[i]=""; done
for s in $ordered; do
  d=$(awk -v s="$s" '$1 == s {print $2}' "$durations" | tail -n 1)
  best=0
  for ((i = 1; i < lanes; i++)); do ((load[i] < load[best])) && best=$i; done
  load[best]=$((load[best] + ${d:-600}))
  plan[best]="${plan[best]} $s"
done

# A lane runs every scenario it was dealt, whatever the one before it did: one failure must not
# hide the others (each scenario destroys its own target, pass or fail).
run_lane() {
  local s start rc lane_rc=0
  # The lane's own /var/lib/docker volume for its targets (.config/molecule/config.yml): the
  # scenarios of a lane run one after the other, so each image is loaded into it once per lane,
  # not once per scenario. A lane takes the first cache whose lock is free (the lock goes with
  # the lane's process, also when it is killed) and that no container still mounts, so two
  # engines never share one volume, whichever lanes runs are going at the same time.
  local cache lock n=1
  while :; do
    cache=lane$n
    exec {lock}>"build/.molecule-cache-$cache.lock"
    if flock -n "$lock"; then
      [ -z "$(docker ps -q --filter "volume=homelab-mcp-edge-molecule-$cache-docker")" ] && break
      flock -u "$lock"
    fi
    exec {lock}>&-
    n=$((n + 1))
  done
  export MOLECULE_DOCKER_CACHE=$cache
  for s in "$@"; do
    start=$(date +%s)
    if [ "$s" = demo-cycle ]; then
      # Not a Molecule scenario: make demo, demo-down, demo, PURGE=1 demo-down (scripts/demo-cycle.sh).
      DEMO_CYCLE_LOG=build/demo-cycle scripts/demo-cycle.sh >"build/molecule-$s.log" 2>&1
    else
      .venv/bin/molecule test -s "$s" >"build/molecule-$s.log" 2>&1
    fi
    rc=$?
    echo "$s $rc $(($(date +%s) - start))" >>"$results"
    [ "$rc" -eq 0 ] || lane_rc=$rc
  done
  return "$lane_rc"
}

# One results file per run, so two runs at once (different scenarios) keep their own summary.
results=$(mktemp build/molecule-results.XXXXXX)
trap 'rm -f "$results"' EXIT
started=$(date +%s)
pids=()
for ((i = 0; i < lanes; i++)); do
  [ -n "${plan[i]}" ] || continue
  echo "molecule lane $((i + 1)):${plan[i]}"
  # shellcheck disable=SC2086
  run_lane ${plan[i]} &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done

echo
while read -r s rc secs; do
  if [ "$rc" -eq 0 ]; then
    echo "molecule scenario $s passed in $secs s"
    echo "$s $secs" >>"$durations"
  else
    echo "=== molecule scenario $s FAILED (exit $rc) after $secs s; the failures (full log: build/molecule-$s.log):"
    grep -E 'FAILED|^E  |fatal:|failed=[1-9]|ERROR|Error' "build/molecule-$s.log" | sed 's/\x1b\[[0-9;]*m//g' | tail -40
  fi
done <"$results"
for s in "$@"; do
  grep -q "^$s " "$results" || { echo "molecule scenario $s did not run"; failed=1; }
done
echo "molecule: $(($(date +%s) - started)) s in $lanes lanes"
exit "$failed"
