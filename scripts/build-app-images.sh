#!/usr/bin/env bash
# Build the application test images locally (no registry serves images here):
#   base      homelab-mcp-edge/debian12-base:local  slim Debian 12 from debootstrap
#   mcp-time  homelab-mcp-edge/mcp-time:local       mcp-server-time (stdio) behind mcp-proxy
#   mcp-notes homelab-mcp-edge/mcp-notes:local      native Streamable-HTTP server (mcp SDK)
#   n8n       homelab-mcp-edge/n8n:<pin>            n8n from npm on Node 24 (tag = N8N_VERSION)
#   n8n-mcp   homelab-mcp-edge/n8n-mcp:local        the n8n MCP gateway from npm, HTTP mode
# Each image carries a label with the hash of its recipe (its folder under tests/images,
# plus the base's hash) and is rebuilt only when that changes. One line per image:
#   <image> built|current <seconds>s
# Usage: scripts/build-app-images.sh [--force] [--prune] [NAME...]   (no NAME: all of them)
#   --prune  afterwards, remove untagged images left by earlier recipes (old builder stages
#            and replaced images: several GB once n8n was rebuilt); current caches stay
# Needs only docker (a running engine) and debootstrap; registry settings (pip index, npm
# registry) and the CA bundle are read from this machine at build time, never stored.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
images_dir="$here/tests/images"
all_names=(base mcp-time mcp-notes n8n n8n-mcp)
log_dir=${HOMELAB_IMAGE_LOG_DIR:-/var/tmp/homelab-image-logs}
ca_bundle=${HOMELAB_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
force=0
prune=0

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

names=()
for arg in "$@"; do
  case "$arg" in
    -h|--help) usage; exit 0 ;;
    -f|--force) force=1 ;;
    --prune) prune=1 ;;
    base|mcp-time|mcp-notes|n8n|n8n-mcp) names+=("$arg") ;;
    *) echo "unknown image '$arg' (known: ${all_names[*]})" >&2; exit 2 ;;
  esac
done
[ ${#names[@]} -gt 0 ] || names=("${all_names[@]}")

image_name() {
  case "$1" in
    base) echo "homelab-mcp-edge/debian12-base:local" ;;
    n8n)
      local pin
      pin=$(awk -F= '/^ARG N8N_VERSION=/ {print $2; exit}' "$images_dir/n8n/Dockerfile")
      echo "homelab-mcp-edge/n8n:${pin:?no ARG N8N_VERSION in tests/images/n8n/Dockerfile}" ;;
    *) echo "homelab-mcp-edge/$1:local" ;;
  esac
}

# The recipe: every file of the image's folder (names and contents), minus local junk.
recipe_hash() {
  local dir="$images_dir/$1" extra=${2:-}
  {
    echo "$extra"
    (cd "$dir" && find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' \
       ! -name ca-certificates.crt | LC_ALL=C sort | while read -r f; do
         echo "== $f"; cat "$f"; done)
  } | sha256sum | cut -c1-16
}

label_of() {
  docker image inspect --format '{{ index .Config.Labels "homelab.recipe" }}' "$1" 2>/dev/null || true
}

mirror() {
  local m
  m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$m" ] || m=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$m" ] || { echo "no Debian mirror found in /etc/apt" >&2; return 1; }
  echo "$m"
}

# Registry settings of this machine, passed as build args (empty: the tool's default).
pip_index() {
  local v=${PIP_INDEX_URL:-}
  if [ -z "$v" ] && command -v pip3 >/dev/null 2>&1; then
    v=$(pip3 config get global.index-url 2>/dev/null || true)
  fi
  if [ -z "$v" ]; then
    v=$(awk -F= '/^[[:space:]]*index-url[[:space:]]*=/ {gsub(/[[:space:]]/, "", $2); print $2; exit}' \
          /etc/pip.conf /etc/xdg/pip/pip.conf "$HOME/.config/pip/pip.conf" "$HOME/.pip/pip.conf" 2>/dev/null || true)
  fi
  case "$v" in file:*) v="" ;; esac   # a local path of the host means nothing in a container
  echo "$v"
}
npm_registry() {
  local v=${NPM_CONFIG_REGISTRY:-${npm_config_registry:-}}
  if [ -z "$v" ] && command -v npm >/dev/null 2>&1; then
    v=$(npm config get registry 2>/dev/null | tail -1 || true)
  fi
  case "$v" in http://*|https://*) ;; *) v="" ;; esac
  echo "$v"
}

mkdir -p "$log_dir"
workdir=$(mktemp -d /var/tmp/homelab-app-images.XXXXXX)
trap 'rm -rf "$workdir"' EXIT

# Called in `cmd || ...` context, where `set -e` does not act: every step checks itself.
build_base() {  # $1 image $2 hash $3 log
  local rootfs="$workdir/rootfs" m
  command -v debootstrap >/dev/null || { echo "debootstrap is not installed" >"$3"; return 1; }
  m=$(mirror) || { echo "no Debian mirror found in /etc/apt" >"$3"; return 1; }
  mkdir -p "$rootfs" || return 1
  echo "debootstrap from $m" >"$3"
  bash "$images_dir/base/rootfs.sh" "$rootfs" "$m" >>"$3" 2>&1 || return 1
  tar -C "$rootfs" -c . | docker import \
    --change 'CMD ["/bin/bash"]' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL homelab.recipe=$2" \
    - "$1" >>"$3" 2>&1 || return 1
  rm -rf "$rootfs"
}

build_app() {  # $1 name $2 image $3 hash $4 log
  local ctx="$workdir/ctx-$1" args pi nr
  [ -r "$ca_bundle" ] || { echo "no CA bundle at $ca_bundle" >"$4"; return 1; }
  cp -a "$images_dir/$1" "$ctx" || return 1
  cp "$ca_bundle" "$ctx/ca-certificates.crt" || return 1
  args=(--label "homelab.recipe=$3" -t "$2")
  pi=$(pip_index); nr=$(npm_registry)
  [ -z "$pi" ] || args+=(--build-arg "PIP_INDEX_URL=$pi")
  [ -z "$nr" ] || args+=(--build-arg "NPM_REGISTRY=$nr")
  DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} docker build "${args[@]}" "$ctx" >"$4" 2>&1 || return 1
  rm -rf "$ctx"
}

command -v docker >/dev/null || { echo "docker is not installed" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "the Docker engine is not running" >&2; exit 1; }

# The base's recipe is its folder plus the import step below (declare -f prints its code).
base_hash=$(recipe_hash base "$(declare -f build_base)")
status=0

ensure() {  # $1 name
  local name=$1 image hash log start old_id builder
  image=$(image_name "$name")
  if [ "$name" = base ]; then hash=$base_hash; else hash=$(recipe_hash "$name" "base=$base_hash"); fi
  log="$log_dir/$name.log"
  start=$(date +%s)
  if [ $force -eq 0 ] && [ "$(label_of "$image")" = "$hash" ]; then
    echo "$image current 0s"
    return 0
  fi
  old_id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  if [ "$name" = base ]; then builder=build_base; else builder="build_app $name"; fi
  if ! $builder "$image" "$hash" "$log"; then
    echo "$image FAILED $(( $(date +%s) - start ))s (log: $log)"
    tail -30 "$log" | sed 's/^/  | /' >&2
    return 1
  fi
  # The replaced image (large for n8n) goes unless a container still uses it.
  if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect --format '{{.Id}}' "$image")" ]; then
    docker image rm "$old_id" >/dev/null 2>&1 || true
  fi
  echo "$image built $(( $(date +%s) - start ))s"
}

# The base goes first, whatever was asked for: every other image starts FROM it.
# --force rebuilds the base only when it is named (it is slow and rarely changes); a rebuilt
# base does not by itself rebuild the others: their labels hold the base's recipe hash.
saved_force=$force
case " ${names[*]} " in *" base "*) ;; *) force=0 ;; esac
ensure base || exit 1
force=$saved_force
# n8n is the long pole (about 23 minutes on 2 cores: npm install and one native compile); the
# other images build one after the other beside it, so a fresh machine waits about as long as
# for n8n alone instead of for the sum (about 35 minutes).
build_chain() {
  local n chain_status=0
  for n in "$@"; do ensure "$n" || chain_status=1; done
  return $chain_status
}
long=(); short=(); pids=()
for n in "${names[@]}"; do
  case "$n" in base) ;; n8n) long+=("$n") ;; *) short+=("$n") ;; esac
done
if [ ${#long[@]} -gt 0 ]; then build_chain "${long[@]}" & pids+=($!); fi
if [ ${#short[@]} -gt 0 ]; then build_chain "${short[@]}" & pids+=($!); fi
for pid in "${pids[@]}"; do wait "$pid" || status=1; done

if [ $prune -eq 1 ]; then
  # Untagged images carrying a recipe label that no current recipe has: stale caches.
  keep=" $base_hash "
  for n in "${all_names[@]}"; do
    [ "$n" = base ] || keep+="$(recipe_hash "$n" "base=$base_hash") "
  done
  removed=0
  for id in $(docker image ls -q --no-trunc --filter dangling=true --filter label=homelab.recipe); do
    case "$keep" in *" $(label_of "$id") "*) continue ;; esac
    docker image rm "$id" >/dev/null 2>&1 && removed=$((removed + 1))
  done
  echo "pruned $removed stale image(s)"
fi
exit $status
