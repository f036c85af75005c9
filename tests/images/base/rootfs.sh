#!/usr/bin/env bash
# Create the slim Debian 12 root filesystem of homelab-mcp-edge/debian12-base:local.
# Usage: rootfs.sh DIR MIRROR  (the mirror is read by the caller from /etc/apt; never stored here)
set -euo pipefail
rootfs=$1 mirror=$2
here=$(cd "$(dirname "$0")" && pwd)
packages=$(grep -v '^#' "$here/packages.txt" | grep -v '^$' | paste -sd, -)
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >/dev/null
# apt must keep working in builder stages, so keep the machine's own sources (in the image only).
cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/" 2>/dev/null || true
# Slim: no package caches, lists, docs or man pages; no locales but C.UTF-8 (built in).
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
       "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
       "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/01-slim" <<'CFG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
CFG
cat > "$rootfs/etc/apt/apt.conf.d/01-slim" <<'CFG'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
CFG
rm -f "$rootfs"/etc/machine-id
