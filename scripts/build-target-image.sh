#!/usr/bin/env bash
# Build the Debian 12 + systemd image that Molecule uses as a "home server".
# No registry serves images here, so the root filesystem comes from the Debian
# mirror through debootstrap. The image carries a label with the hash of its
# recipe and is rebuilt only when the recipe changes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
recipe_dir="$here/tests/images/debian12-systemd"
image="${HOMELAB_TARGET_IMAGE:-homelab-mcp-edge/debian12-systemd:local}"

recipe_hash=$(cat "$0" "$recipe_dir"/* | sha256sum | cut -c1-16)
current=$(docker image inspect --format '{{ index .Config.Labels "homelab.recipe" }}' "$image" 2>/dev/null || true)
if [ "$current" = "$recipe_hash" ]; then
  echo "target image $image is current ($recipe_hash)"
  exit 0
fi

# The mirror is read from the machine's own apt configuration, never written here.
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt" >&2; exit 1; }

packages=$(grep -v '^#' "$recipe_dir/packages.txt" | grep -v '^$' | paste -sd, -)
rootfs=$(mktemp -d /var/tmp/homelab-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "building $image from $mirror (recipe $recipe_hash)"
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >/dev/null

# A target that boots straight to a working systemd: no getty, no udev triggers
# fighting over a container's /dev, and the machine-id made fresh per container.
rm -f "$rootfs"/etc/machine-id && touch "$rootfs"/etc/machine-id
for unit in getty.target console-getty.service systemd-udevd.service \
            systemd-udev-trigger.service systemd-remount-fs.service \
            systemd-firstboot.service; do
  ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/" 2>/dev/null || true
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" -c . | docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change "LABEL homelab.recipe=$recipe_hash" \
  - "$image" >/dev/null
echo "built $image"
