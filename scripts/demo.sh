#!/usr/bin/env bash
# make demo / make demo-down: the whole site (Cloudflare tunnel, DNS, Access; firewall; Docker;
# two MCP servers and n8n; cloudflared) from one inventory, on a throwaway local "home server"
# (a Debian 12 container running systemd and its own Docker engine), against the local
# Cloudflare API emulator. Then a summary: hostnames, Access policies, container health, a live
# MCP handshake, the tunnel id.
#
# Stand-ins, clearly named: the Cloudflare API is tests/cloudflare_emulator (nothing offline can be
# Cloudflare) and cloudflared is the TEST DOUBLE tests/doubles/cloudflared (Cloudflare's binary
# cannot be downloaded here). On a real server the same playbook talks to api.cloudflare.com and
# installs the real cloudflared from Cloudflare's apt repository.
#
# DEMO_FIREWALL=ufw makes the demo use the firewall role's ufw backend (default: nftables).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
name=${HOMELAB_DEMO_CONTAINER:-mcp-edge-demo}
image=${HOMELAB_TARGET_IMAGE:-homelab-mcp-edge/debian12-systemd:local}
cache_volume=homelab-mcp-edge-demo-docker
state=.demo
export PATH="$repo/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$repo/ansible.cfg"
fresh_inventory=0
images=(homelab-mcp-edge/mcp-time:local homelab-mcp-edge/mcp-notes:local homelab-mcp-edge/n8n:2.40.7)

emulator_up() {
  mkdir -p "$state" && chmod 700 "$state"
  if [ -f "$state/emulator.pid" ] && kill -0 "$(cat "$state/emulator.pid")" 2>/dev/null; then return; fi
  rm -f "$state/emulator.port"
  # --state keeps the emulated account across restarts, so a second `make demo` finds its tunnel.
  setsid python3 tests/cloudflare_emulator/emulator.py --quiet --host 127.0.0.1 --port 0 \
    --port-file "$state/emulator.port" --state "$state/emulator-state.json" \
    --seed tests/cloudflare_emulator/seed.example.json >"$state/emulator.log" 2>&1 </dev/null &
  echo $! >"$state/emulator.pid"
  for _ in $(seq 100); do [ -s "$state/emulator.port" ] && break; sleep 0.1; done
  [ -s "$state/emulator.port" ] || { cat "$state/emulator.log" >&2; exit 1; }
  echo "started the Cloudflare API emulator on 127.0.0.1:$(cat "$state/emulator.port")"
}

emulator() { curl -fsS "http://127.0.0.1:$(cat "$state/emulator.port")/__emulator/$1"; }

start_target() {
  if [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != "true" ]; then
    docker rm -f "$name" >/dev/null 2>&1 || true
    # systemd as PID 1 plus what a Docker engine inside needs (see the platform in .config/molecule/config.yml);
    # /var/lib/docker is a named volume, so images are copied in once across demos.
    local caps=() cap
    for cap in AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND CHOWN DAC_OVERRIDE DAC_READ_SEARCH \
      FOWNER FSETID IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN MAC_OVERRIDE MKNOD \
      NET_ADMIN NET_BIND_SERVICE NET_BROADCAST NET_RAW SETFCAP SETGID SETPCAP SETUID SYS_ADMIN \
      SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_TIME \
      SYS_TTY_CONFIG SYSLOG WAKE_ALARM; do caps+=(--cap-add "$cap"); done
    docker run -d --name "$name" --hostname "$name" \
      --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v "$cache_volume:/var/lib/docker" \
      --tmpfs /run --tmpfs /run/lock --tmpfs /tmp "${caps[@]}" \
      --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      "$image" >/dev/null
    echo "started $name (Debian 12 with systemd, in a container)"
  fi
  docker exec "$name" systemctl is-system-running --wait >/dev/null 2>&1 || true
}

write_inventory() {
  local n8n_key notes_token
  [ -f "$state/inventory.yml" ] && return
  fresh_inventory=1
  # Demo secrets, made once per demo and kept in .demo (0600): they unlock nothing real.
  n8n_key=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
  notes_token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
  cat >"$state/inventory.yml" <<EOF
homelab_servers:
  hosts:
    $name:
      ansible_connection: community.docker.docker
  vars:
    homelab_domain: example.com
    homelab_tunnel_name: home
    homelab_access_policies:
      owner:
        decision: allow
        include: [{email: me@example.com}]
      mcp-clients:
        decision: non_identity
        include: [{service_token: claude-desktop}]
    homelab_access_service_tokens: [{name: claude-desktop, duration: 8760h}]
    homelab_services:
      - name: time
        kind: mcp
        image: homelab-mcp-edge/mcp-time:local
        command: [mcp-server-time, --local-timezone, Europe/Berlin]
        port: 3001
        access: [owner, mcp-clients]
      - name: notes
        kind: mcp
        image: homelab-mcp-edge/mcp-notes:local
        transport: streamable-http
        port: 3002
        env: {MCP_ALLOWED_HOSTS: "127.0.0.1:*,localhost:*,notes.example.com"}
        secret_env: {MCP_AUTH_TOKEN: "$notes_token"}
        volumes: [mcp-notes-data:/data]
        healthcheck: {test: [CMD, healthcheck]}
        access: [mcp-clients]
      - name: n8n
        kind: n8n
        port: 5678
        access: [owner]
    cloudflare_edge_api_base_url: http://127.0.0.1:$(cat "$state/emulator.port")/client/v4
    cloudflare_edge_api_token: $(python3 -c 'import json; print(json.load(open("tests/cloudflare_emulator/seed.example.json"))["tokens"][1]["value"])')
    cloudflare_edge_secrets_dir: $repo/$state/secrets
    firewall_admin_networks: [172.16.0.0/12]
    firewall_backend: ${DEMO_FIREWALL:-nftables}
    n8n_image: homelab-mcp-edge/n8n:2.40.7
    n8n_encryption_key: $n8n_key
    cloudflared_install_method: local
    cloudflared_local_file: $repo/tests/doubles/cloudflared/build/cloudflared
    homelab_monitoring: true
    monitoring_mcp_probe_headers: {notes: {Authorization: "Bearer $notes_token"}}
EOF
  chmod 600 "$state/inventory.yml"
}

forget_old_demo_data() {
  # A demo that ended without `make demo-down` (or with the container already gone) leaves its
  # containers and n8n's data in the image-cache volume, encrypted with a key that went with the old
  # .demo/: this demo made a new one. Its data is throwaway, so it goes (a real site instead fails in
  # the n8n role's preflight, naming both keys' places).
  local leftovers
  leftovers=$(docker exec "$name" docker ps -aq --filter label=io.homelab.mcp_edge.managed=true)
  if [ -n "$leftovers" ] || docker exec "$name" docker volume inspect n8n_data >/dev/null 2>&1; then
    echo "removing an earlier demo's containers and data from $name (their secrets are gone)"
    [ -z "$leftovers" ] || docker exec "$name" docker rm -f $leftovers >/dev/null
    docker exec "$name" sh -c 'docker volume ls -q --filter label=io.homelab.mcp_edge.managed=true | xargs -r docker volume rm >/dev/null; docker volume rm -f n8n_data mcp-notes-data >/dev/null'
  fi
}

load_images() {
  # The demo's home server has no registry to pull from: copy the locally built images in.
  local img
  for img in "${images[@]}"; do
    if [ "$(docker image inspect -f '{{.Id}}' "$img")" != "$(docker exec "$name" docker image inspect -f '{{.Id}}' "$img" 2>/dev/null || true)" ]; then
      echo "copying $img into $name (once; kept in the volume $cache_volume)"
      docker save "$img" | docker exec -i "$name" docker load >/dev/null
    fi
  done
}

probe() {
  # The official mcp SDK client (tests/images/mcp_probe.py), run in a throwaway container that
  # shares the home server's network namespace: it reaches 127.0.0.1 exactly as cloudflared does.
  docker run --rm --network "container:$name" -v "$repo/tests/images/mcp_probe.py:/probe.py:ro" \
    --entrypoint /opt/mcp-notes/bin/python homelab-mcp-edge/mcp-notes:local /probe.py "$@" --wait 30 2>/dev/null |
    python3 -c 'import json, sys
try:
    s = json.load(sys.stdin)
except ValueError:
    print("FAILED"); sys.exit()
i = s.get("initialize", {}); c = s.get("call", {})
print("%s %s, %d tools, %s -> %s" % (i.get("server"), i.get("protocol_version", ""), len(s.get("tools", [])),
      c.get("tool"), "ok" if c and not c.get("is_error") else "error"))'
}

lan_scan() {
  # Connect from a throwaway container (another machine on the LAN) to every port the home server
  # listens on, 127.0.0.1 included: only what the firewall lets in answers.
  local ip ports
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$name")
  ports=$(docker exec "$name" ss -Hltn | awk '{n = split($4, a, ":"); print a[n]}' | sort -un | paste -sd, -)
  docker run --rm --entrypoint /usr/bin/python3 homelab-mcp-edge/mcp-notes:local -c '
import socket, sys
found = []
for port in sys.argv[2].split(","):
    s = socket.socket(); s.settimeout(1)
    if s.connect_ex((sys.argv[1], int(port))) == 0: found.append(port)
    s.close()
print(", ".join(found) or "none", "(of %s listening)" % sys.argv[2])' "$ip" "$ports"
}

neighbour_attack() {
  # A neighbour that routes the home server's container networks through it (as anyone on the LAN
  # can) tries every container's own address and port: the docker role's container guard drops
  # them all. Prints "none (of N tried: ...)" when nothing answered.
  local ip targets
  ip=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$name")
  targets=$(docker exec "$name" sh -c 'for c in $(docker ps -q); do
      addrs=$(docker inspect -f "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}" "$c")
      ports=$(docker inspect -f "{{range \$p, \$b := .Config.ExposedPorts}}{{\$p}} {{end}}{{range \$p, \$b := .NetworkSettings.Ports}}{{\$p}} {{end}}" "$c")
      for a in $addrs; do for p in $ports; do echo "$a:${p%/*}"; done; done; done' | sort -u | paste -sd, -)
  [ -n "$targets" ] || { echo "no containers"; return; }
  docker run --rm --cap-add NET_ADMIN --entrypoint /bin/sh homelab-mcp-edge/debian12-systemd:local -c '
for t in $(echo "$2" | tr , " "); do ip route replace "${t%:*}/32" via "$1" 2>/dev/null; done
exec python3 -c "
import socket, sys
found = []
targets = sys.argv[1].split(\",\")
for t in targets:
    h, p = t.rsplit(\":\", 1)
    s = socket.socket(); s.settimeout(1)
    if s.connect_ex((h, int(p))) == 0: found.append(t)
    s.close()
print(\", \".join(found) or \"none\", \"(of %d tried: %s)\" % (len(targets), \", \".join(targets)))
" "$2"' sh "$ip" "$targets"
}

# Prometheus on the demo server (127.0.0.1 only, read from inside): targets up, MCP probes, alerts firing.
monitoring_summary() {
  docker exec "$name" python3 -c '
import json, urllib.request
def get(url):
    return json.load(urllib.request.urlopen(url, timeout=10))
# The first probes need a scrape interval or two after the play.
import time
for _ in range(30):
    up = get("http://127.0.0.1:9090/api/v1/query?query=up")["data"]["result"]
    probes = get("http://127.0.0.1:9090/api/v1/query?query=probe_success")["data"]["result"]
    if len(probes) >= 3 and all(r["value"][1] == "1" for r in up + probes):
        break
    time.sleep(2)
ok = sum(r["value"][1] == "1" for r in up)
probe = ", ".join(sorted(r["metric"]["service"] + (" ok" if r["value"][1] == "1" else " FAILING") for r in probes))
firing = sorted(a["labels"]["alertname"] for a in get("http://127.0.0.1:9093/api/v2/alerts?active=true"))
firing = ", ".join(firing) or "none"
print(f"{ok}/{len(up)} targets up; probes: {probe}; alerts firing: {firing}")
' 2>&1 | tail -n 1
}

summary() {
  local st tunnel_id
  st=$(emulator state)
  tunnel_id=$(python3 -c 'import json,sys; print(next(t["id"] for t in json.load(sys.stdin)["tunnels"] if t["name"]=="home" and not t.get("deleted_at")))' <<<"$st")
  echo
  echo "=== The demo home server ==================================================="
  echo "tunnel:   home = $tunnel_id ($(docker exec "$name" systemctl is-active cloudflared@home) on $name, outbound only)"
  echo "firewall: ports answering from another container on the LAN: $(lan_scan)"
  echo "guard:    containers answering a LAN neighbour that routes their own addresses through the home server: $(neighbour_attack)"
  echo
  printf '%-20s %-26s %-10s %s\n' "hostname" "Access policies" "health" "live MCP handshake (127.0.0.1)"
  python3 - "$st" <<'EOF' | while IFS='|' read -r host policies port container kind; do
import json, sys
st = json.loads(sys.argv[1])
names = {p["id"]: p["name"] for p in st["access_policies"]}
ports = {"time.example.com": (3001, "mcp-time", "mcp"), "notes.example.com": (3002, "mcp-notes", "mcp"),
         "n8n.example.com": (5678, "n8n", "n8n")}
for app in sorted(st["access_apps"], key=lambda a: a["name"]):
    pol = ", ".join(names[p["id"]] for p in sorted(app["policies"], key=lambda p: p["precedence"]))
    port, container, kind = ports.get(app["domain"], (0, "?", "?"))
    print("|".join([app["domain"], pol, str(port), container, kind]))
EOF
    health=$(docker exec "$name" docker inspect -f '{{.State.Health.Status}}' "$container" 2>/dev/null || echo missing)
    case "$kind" in
      mcp)
        if [ "$container" = mcp-notes ]; then
          token=$(python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); print(next(s for s in d["homelab_servers"]["vars"]["homelab_services"] if s["name"] == "notes")["secret_env"]["MCP_AUTH_TOKEN"])' "$state/inventory.yml")
          result=$(probe "http://127.0.0.1:$port/mcp" --header "Authorization: Bearer $token" --call list_notes)
        else
          result=$(probe "http://127.0.0.1:$port/mcp" --call get_current_time --args '{"timezone": "UTC"}')
        fi ;;
      *) result="n8n /healthz/readiness: $(docker exec "$name" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz/readiness")" ;;
    esac
    printf '%-20s %-26s %-10s %s\n' "$host" "$policies" "$health" "$result"
  done
  echo
  echo "monitoring: $(monitoring_summary)"
  echo
  echo "service token secret: $state/secrets/claude-desktop.env (0600, written once)"
  echo "How to look:"
  echo "  docker exec -it $name cat /etc/cloudflared/home.yml        # hostname -> 127.0.0.1:port, Access aud tags"
  echo "  docker exec -it $name nft list ruleset                     # default-deny inbound"
  echo "  docker exec -it $name docker ps                            # the containers, 127.0.0.1 only"
  echo "  docker exec -it $name curl -s 127.0.0.1:9093/api/v2/alerts # Alertmanager: what is firing"
  echo "  curl -s http://127.0.0.1:$(cat "$state/emulator.port")/__emulator/state | python3 -m json.tool   # the emulated Cloudflare account"
  echo "Run 'make demo' again: it reports changed=0 and sends no API write. 'make demo-down' tears it all down."
}

up() {
  local started=$SECONDS
  emulator_up
  start_target
  python3 tests/doubles/cloudflared/build.py >/dev/null
  write_inventory
  # The Docker engine first, so the locally built images can be copied in before the site runs.
  ansible-playbook -i "$state/inventory.yml" homelab.mcp_edge.site --tags docker
  if [ "$fresh_inventory" = 1 ]; then forget_old_demo_data; fi
  load_images
  local since
  since=$(emulator requests | python3 -c 'import json, sys; print(max([r["seq"] for r in json.load(sys.stdin)] + [0]))')
  ansible-playbook -i "$state/inventory.yml" homelab.mcp_edge.site
  summary
  emulator "requests?since=$since" | python3 -c 'import json, sys
r = json.load(sys.stdin)
print("Cloudflare API this run: %d requests, %d writes" % (len(r), sum(x["method"] != "GET" for x in r)))' 
  echo "(this run took $((SECONDS - started)) s)"
}

down() {
  if [ -f "$state/inventory.yml" ] && [ -f "$state/emulator.pid" ] && kill -0 "$(cat "$state/emulator.pid")" 2>/dev/null &&
    [ "$(docker inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = "true" ]; then
    # The same teardown a user runs: removes what site.yml created, on the API and on the host.
    # The demo's data goes too (homelab_teardown_data): its n8n encryption key is deleted with
    # .demo below, and n8n refuses a data volume encrypted with a key it is not given.
    ansible-playbook -i "$state/inventory.yml" homelab.mcp_edge.teardown -e homelab_teardown_confirm=home \
      -e homelab_teardown_data=true
    echo "left in the emulated account: $(emulator state | python3 -c 'import json,sys; s=json.load(sys.stdin); print(len(s["access_apps"]), "applications,", len([t for t in s["tunnels"] if not t.get("deleted_at")]), "tunnels,", len([r for r in s["dns_records"] if "cfargotunnel" in r.get("content", "")]), "tunnel DNS records")')"
  fi
  [ -f "$state/emulator.pid" ] && kill "$(cat "$state/emulator.pid")" 2>/dev/null && echo "stopped the emulator" || true
  docker rm -f "$name" >/dev/null 2>&1 && echo "removed container $name" || echo "no container $name"
  if [ "${PURGE:-0}" = 1 ]; then docker volume rm "$cache_volume" >/dev/null 2>&1 && echo "removed volume $cache_volume"; fi
  rm -rf "$state"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
