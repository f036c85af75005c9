#!/usr/bin/env bash
# Put Debian's promtool, amtool and prometheus-blackbox-exporter into build/prometheus-tools/bin for
# the unit tests (tests/unit/monitoring): the same binaries the monitoring role's `validate:` runs on a
# Debian 12 host. The .debs are only unpacked, never installed: installing would start Prometheus,
# Alertmanager and the exporter as services on the test machine.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/prometheus-tools
stamp=$dir/versions
# package:path of the binary inside it
tools=(prometheus:usr/bin/promtool prometheus-alertmanager:usr/bin/amtool
  prometheus-blackbox-exporter:usr/bin/prometheus-blackbox-exporter)

# "package=version" of each package's apt candidate (one apt-cache call: it takes ~0.4 s); fails
# when apt does not know one.
candidates() {
  local out
  out=$(apt-cache policy "${tools[@]%%:*}" | awk '/^[^ ]/ {p = $1; sub(/:$/, "", p)} /Candidate:/ && $2 != "(none)" {print p "=" $2}')
  [ "$(wc -l <<<"$out")" -eq "${#tools[@]}" ] && echo "$out"
}

# A fresh machine may have empty package lists: update only then (it needs root and the network).
if ! want=$(candidates); then
  apt-get update -qq
  want=$(candidates) || { echo "apt knows no candidate for ${tools[*]%%:*}" >&2; exit 1; }
fi

have=yes
for tool in "${tools[@]}"; do [ -x "$dir/bin/$(basename "${tool#*:}")" ] || have=no; done
if [ "$have" = yes ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "prometheus tools up to date in $dir/bin (${want//$'\n'/, })"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt downloads as _apt when run as root: let it write into the temporary directory.
if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
# Exactly the candidate versions the stamp records.
# shellcheck disable=SC2086  # one package=version per word
(cd "$tmp" && apt-get download -qq $want)
mkdir -p "$tmp/root" "$tmp/bin"
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
for tool in "${tools[@]}"; do
  cp "$tmp/root/${tool#*:}" "$tmp/bin/"
  "$tmp/bin/$(basename "${tool#*:}")" --version >/dev/null 2>&1 ||
    { echo "${tool#*:} of ${tool%%:*} does not run on this machine" >&2; exit 1; }
done
# Replace the whole directory, stamp last: an interrupted run is redone next time.
rm -rf "${dir:?}/bin" "$stamp"
mkdir -p "$dir"
mv "$tmp/bin" "$dir/bin"
echo "$want" >"$stamp"
echo "prometheus tools unpacked into $dir/bin (${want//$'\n'/, })"
