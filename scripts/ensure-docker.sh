#!/usr/bin/env bash
# Make sure a Docker engine answers, installing and starting one when none does (and the tools
# the image builds and Molecule need beside it: debootstrap, rsync).
# The test machines run no systemd, so dockerd is started in the background; on a
# normal host with systemd the engine is started through it.
set -euo pipefail
log=${HOMELAB_DOCKERD_LOG:-/var/log/homelab-dockerd.log}

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v docker >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
# Molecule's Docker driver copies a scenario's build context with rsync (the firewall scenario builds
# its target image at create).
command -v rsync >/dev/null 2>&1 || need_pkgs+=(rsync)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "need root to install ${need_pkgs[*]}" >&2; exit 1; }
  echo "installing ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl start docker
else
  echo "starting dockerd (log: $log)"
  nohup dockerd >"$log" 2>&1 &
fi
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && { echo "docker engine is up"; exit 0; }
  sleep 1
done
echo "the Docker engine did not answer within 60 s; see $log" >&2
tail -n 20 "$log" >&2 || true
exit 1
