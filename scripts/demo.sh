#!/usr/bin/env bash
# make demo / make demo-down: converge the collection onto a throwaway local "home server"
# (a Debian 12 container running systemd) and show what it did and how to look.
#
# cloudflared here is the collection's clearly named TEST DOUBLE (tests/doubles/cloudflared):
# Cloudflare's binary cannot be downloaded on these machines. On a real server the role
# installs the real one from Cloudflare's apt repository.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
name=${HOMELAB_DEMO_CONTAINER:-mcp-edge-demo}
image=${HOMELAB_TARGET_IMAGE:-homelab-mcp-edge/debian12-systemd:local}
state=.demo
export PATH="$repo/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$repo/ansible.cfg"

down() {
  docker rm -f "$name" >/dev/null 2>&1 && echo "removed container $name" || echo "no container $name"
  rm -rf "$state"
}

start_target() {
  if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != "true" ]; then
    docker rm -f "$name" >/dev/null 2>&1 || true
    docker run -d --name "$name" --hostname "$name" \
      --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
      --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      --cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      "$image" >/dev/null
    echo "started $name (systemd in a container)"
  fi
  docker exec "$name" systemctl is-system-running --wait >/dev/null || true
}

write_inventory() {
  # Fake but well-formed tunnel credentials, made once per demo: they unlock nothing.
  mkdir -p "$state" && chmod 700 "$state"
  [ -f "$state/inventory.yml" ] && return
  local tunnel_id secret
  tunnel_id=$(python3 -c 'import uuid; print(uuid.uuid4())')
  secret=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
  cat >"$state/inventory.yml" <<EOF
homelab_servers:
  hosts:
    $name:
      ansible_connection: community.docker.docker
  vars:
    homelab_domain: example.com
    homelab_tunnel_name: home
    homelab_services:
      - {name: time, kind: mcp, port: 3001, access: [owner]}
      - {name: notes, kind: mcp, transport: streamable-http, port: 3002, access: [owner]}
      - name: n8n
        kind: n8n
        port: 5678
        paths:
          - {path: ^/webhook/, origin_request: {connect_timeout: 10s}}
    cloudflared_install_method: local
    cloudflared_local_file: $repo/tests/doubles/cloudflared/build/cloudflared
    cloudflared_tunnel_mode: local
    cloudflared_tunnel_id: $tunnel_id
    cloudflared_account_tag: 0123456789abcdef0123456789abcdef
    cloudflared_tunnel_secret: $secret
EOF
  chmod 600 "$state/inventory.yml"
}

summary() {
  local unit=cloudflared@home.service
  echo
  echo "=== What the demo did ==================================================="
  echo "host:            $name (Debian 12, systemd)"
  echo "service:         $unit is $(docker exec "$name" systemctl is-active "$unit") and $(docker exec "$name" systemctl is-enabled "$unit"), running as user $(docker exec "$name" systemctl show -p User --value "$unit")"
  echo "sandbox:         $(docker exec "$name" systemd-analyze security "$unit" 2>/dev/null | tail -n 1 | sed 's/^→ //')"
  echo "readiness:       $(docker exec "$name" curl -fsS http://127.0.0.1:20241/ready)"
  echo "ingress (hostname -> local service):"
  for host in time.example.com notes.example.com n8n.example.com/webhook/x n8n.example.com unknown.example.com; do
    printf '  %-28s -> %s\n' "$host" \
      "$(docker exec "$name" cloudflared tunnel --config /etc/cloudflared/home.yml ingress rule "https://$host" 2>/dev/null | awk '/service:/ {print $2}')"
  done
  echo
  echo "How to look:"
  echo "  docker exec -it $name systemctl status cloudflared@home"
  echo "  docker exec -it $name cat /etc/cloudflared/home.yml"
  echo "  docker exec -it $name ls -l /etc/cloudflared"
  echo "  docker exec -it $name journalctl -u cloudflared@home"
  echo "Run 'make demo' again: it reports 0 changed. 'make demo-down' removes it."
}

up() {
  start_target
  python3 tests/doubles/cloudflared/build.py >/dev/null
  write_inventory
  ansible-playbook -i "$state/inventory.yml" homelab.mcp_edge.cloudflared
  summary
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
