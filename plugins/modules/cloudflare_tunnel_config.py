#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_tunnel_config
short_description: Manage the ingress rules of a remote-managed Cloudflare Tunnel
version_added: 0.1.0
description:
  - Sets the configuration (ingress rules, global origin request settings, WARP routing) of a
    remote-managed Cloudflare Tunnel (created with O(homelab.mcp_edge.cloudflare_tunnel#module:config_src=cloudflare)).
  - Takes the same rule format as the C(homelab.mcp_edge.cloudflared) role uses for C(config.yml), and checks it
    with the same code (C(plugins/module_utils/_ingress.py)).
  - A catch-all rule (O(catch_all)) is appended when the last rule has a hostname or a path.
  - The configuration is read once and written only when it differs.
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  tunnel:
    description:
      - Name or UUID of the tunnel.
    type: str
    required: true
  rules:
    description:
      - Ingress rules, in order; the first rule that matches a request wins.
      - Only the last rule may match everything (no O(rules[].hostname), no O(rules[].path)).
    type: list
    elements: dict
    required: true
    suboptions:
      hostname:
        description:
          - Public hostname, for example C(app.example.com). May start with C(*.) (a whole leftmost label only).
        type: str
      path:
        description:
          - Regular expression the request path must match.
        type: str
      service:
        description:
          - Where to send matching requests. One of C(http://), C(https://), C(tcp://), C(ssh://), C(rdp://),
            C(smb://) URLs, C(unix:PATH), C(unix+tls:PATH), C(http_status:NNN), C(hello_world), C(bastion).
        type: str
        required: true
      origin_request:
        description:
          - Origin settings for this rule, with snake_case keys (C(connect_timeout), C(no_tls_verify),
            C(http_host_header), C(origin_server_name), C(access) with C(required), C(team_name), C(aud_tag), ...)
            or the API's camelCase keys. Durations may be whole seconds or Go duration strings such as C(30s) or
            C(1m30s) (sent as whole seconds, the only form cloudflared reads from the API).
          - The alias C(originRequest) takes rules in cloudflared's own form unchanged (as in the
            C(homelab.mcp_edge.cloudflared) role's C(cloudflared_extra_ingress)).
        type: dict
        aliases: [originRequest]
  origin_request:
    description:
      - Origin settings for all rules (same keys as O(rules[].origin_request)).
      - Left out, the tunnel's current global settings are kept; V({}) removes them.
    type: dict
  warp_routing:
    description:
      - Whether private network (WARP) routing is enabled. Left out, the current value is kept.
    type: bool
  catch_all:
    description:
      - Service of the catch-all rule appended when the last rule has a hostname or a path.
    type: str
    default: http_status:404
  zone:
    description:
      - A zone of the account; used only to find the account when O(account_id) is not set.
    type: str
seealso:
  - module: homelab.mcp_edge.cloudflare_tunnel
"""

EXAMPLES = r"""
- name: A remote-managed tunnel
  homelab.mcp_edge.cloudflare_tunnel:
    name: edge
    config_src: cloudflare
  delegate_to: localhost
  no_log: true        # the result holds the tunnel's token

- name: The Access application in front of the MCP server
  homelab.mcp_edge.cloudflare_access_application:
    name: time
    domain: time.example.com
  delegate_to: localhost
  register: app

- name: Publish two services through a remote-managed tunnel
  homelab.mcp_edge.cloudflare_tunnel_config:
    tunnel: edge
    rules:
      - hostname: n8n.example.com
        service: http://127.0.0.1:5678
      - hostname: time.example.com
        path: ^/mcp
        service: http://127.0.0.1:3001
        origin_request:
          connect_timeout: 10s
          access:
            required: true
            team_name: myteam
            aud_tag: ["{{ app.application.aud }}"]
    origin_request:
      no_happy_eyeballs: true
  delegate_to: localhost
"""

RETURN = r"""
config:
  description: The tunnel configuration after the run (in check mode, what it would be), in the API's camelCase form.
  returned: always
  type: dict
  sample:
    ingress:
      - hostname: n8n.example.com
        service: http://127.0.0.1:5678
      - service: http_status:404
    warp-routing:
      enabled: false
version:
  description:
    - Configuration version after the run (increments on every write).
    - V(null) in check mode when it would change.
  returned: always
  type: int
  sample: 3
tunnel_id:
  description: UUID of the tunnel.
  returned: always
  type: str
  sample: 6ff42ae2-765d-4adf-8112-31c55c1551ef
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 3
"""

import re

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import (
    CloudflareError,
    CloudflareInputError,
    CloudflareModule,
    DifferenceTracker,
    find_tunnel,
    normalise,
    tunnel_path,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._ingress import (
    IngressError,
    ingress_problems,
    origin_request_problems,
    origin_request_to_camel,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import go_duration_seconds

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


DURATION_KEYS = ("connectTimeout", "tlsTimeout", "tcpKeepAlive", "keepAliveTimeout")


def seconds(value):
    """The API takes durations as whole seconds; config.yml-style strings ('1m30s') are converted.

    Anything else is left as it is, for the validator to name (a fraction of a second, a typo).
    """
    if isinstance(value, str):
        text = value.strip()
        total = float(text) if re.fullmatch(r"[0-9]+", text) else go_duration_seconds(text)
        if total is not None and total.is_integer():
            return int(total)
    return value


def to_api_origin_request(settings, where):
    """snake_case or camelCase settings -> the API's camelCase, durations in seconds."""
    camel = origin_request_to_camel(settings, where=where)
    for key in DURATION_KEYS:
        if key in camel:
            camel[key] = seconds(camel[key])
    if isinstance(camel.get("access"), dict) and isinstance(camel["access"].get("audTag"), str):
        camel["access"]["audTag"] = [camel["access"]["audTag"]]
    return camel


def build_config(rules, origin_request, catch_all):
    """User rules -> (ingress list, global originRequest); every problem raised at once."""
    problems = []
    ingress = []
    for index, rule in enumerate(rules):
        out = {}
        for key in ("hostname", "path"):
            if rule.get(key) not in (None, ""):
                out[key] = rule[key].strip().lower() if key == "hostname" else rule[key]
        out["service"] = (rule.get("service") or "").strip()
        try:
            origin = to_api_origin_request(rule.get("origin_request"), "rules[%d].origin_request" % index)
        except IngressError as exc:
            problems.extend(exc.problems)
            origin = {}
        if origin:
            out["originRequest"] = origin
        ingress.append(out)
    if catch_all and (not ingress or "hostname" in ingress[-1] or "path" in ingress[-1]):
        ingress.append({"service": catch_all})
    problems.extend(ingress_problems(ingress, form="api"))
    global_origin = None
    if origin_request is not None:
        try:
            global_origin = to_api_origin_request(origin_request, "origin_request")
            problems.extend(origin_request_problems(global_origin, "origin_request", form="api"))
        except IngressError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CloudflareInputError("invalid ingress: " + " ".join(problems), option="rules")
    return ingress, global_origin


def canonical(value):
    """Drop empty originRequest mappings and None values so the API's echo compares equal."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = canonical(v)
            if v is None or (k == "originRequest" and v == {}):
                continue
            out[k] = v
        return normalise(out)
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


class TunnelConfigManager:
    def __init__(self, cf):
        self.cf = cf
        self.client = cf.client
        self.params = cf.params
        self.tracker = DifferenceTracker()

    def find(self, account):
        ref = self.params["tunnel"]
        if UUID_RE.match(ref):
            try:
                return self.client.get(tunnel_path(account, ref))
            except CloudflareError as exc:
                if exc.status != 404:
                    raise
        tunnel = find_tunnel(self.client, account, ref)
        if tunnel is None and self.cf.check_mode:
            # In check mode an earlier task (cloudflare_tunnel) only said it would create the tunnel.
            self.cf.module.warn(
                "no live tunnel named (or with id) %r yet (check mode: a real run fails unless an earlier task "
                "creates it)" % ref
            )
            return None
        if tunnel is None:
            raise CloudflareInputError(
                "no live tunnel named (or with id) %r in account %s; create it first with "
                "homelab.mcp_edge.cloudflare_tunnel (config_src=cloudflare)" % (ref, account),
                option="tunnel",
            )
        return tunnel

    def run(self):
        ingress, global_origin = build_config(
            self.params["rules"], self.params["origin_request"], self.params["catch_all"]
        )
        account = self.client.resolve_account_id(zone=self.params["zone"])
        tunnel = self.find(account)
        if tunnel is None:
            # Check mode, the tunnel still to be created: it has no configuration yet, so all of it
            # would be written (nothing is written in check mode).
            tunnel, current_env = {"id": None, "name": self.params["tunnel"]}, {}
        else:
            if tunnel.get("deleted_at"):
                raise CloudflareInputError("tunnel %r is deleted" % self.params["tunnel"], option="tunnel")
            if not tunnel.get("remote_config"):
                raise CloudflareInputError(
                    "tunnel %r is locally managed (config_src=local): its ingress lives in cloudflared's config.yml "
                    "(the homelab.mcp_edge.cloudflared role writes it), not in the API" % tunnel.get("name"),
                    option="tunnel",
                )
            current_env = self.client.get(tunnel_path(account, tunnel["id"], "configurations")) or {}
        current = current_env.get("config") or {}
        new = dict(current)
        new["ingress"] = ingress
        if global_origin is not None:
            if global_origin:
                new["originRequest"] = global_origin
            else:
                new.pop("originRequest", None)
        if self.params["warp_routing"] is not None:
            new["warp-routing"] = {"enabled": self.params["warp_routing"]}
        for key in ("ingress", "originRequest", "warp-routing"):
            if canonical(current.get(key)) != canonical(new.get(key)):
                self.tracker.add(key, current.get(key), new.get(key))
        result = {"tunnel_id": tunnel["id"], "config": current, "version": current_env.get("version")}
        if self.tracker.has_differences:
            result["config"] = new
            if self.cf.check_mode:
                result["version"] = None
            else:
                written = self.client.put(tunnel_path(account, tunnel["id"], "configurations"), json={"config": new})
                if isinstance(written, dict):
                    result["config"] = written.get("config") or new
                    result["version"] = written.get("version")
        result["changed"] = self.tracker.has_differences
        if self.cf.diff_mode:
            result["diff"] = {
                "before": canonical(current),
                "after": canonical(new),
                "before_header": "tunnel %s configuration" % tunnel.get("name"),
                "after_header": "tunnel %s configuration" % tunnel.get("name"),
            }
        return result


def main():
    argument_spec = dict(
        tunnel=dict(type="str", required=True),
        rules=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(
                hostname=dict(type="str"),
                path=dict(type="str"),
                service=dict(type="str", required=True),
                origin_request=dict(type="dict", aliases=["originRequest"]),
            ),
        ),
        origin_request=dict(type="dict"),
        warp_routing=dict(type="bool"),
        catch_all=dict(type="str", default="http_status:404"),
        zone=dict(type="str"),
    )
    cf = CloudflareModule(argument_spec=argument_spec, supports_check_mode=True)
    cf.run(TunnelConfigManager(cf).run)


if __name__ == "__main__":
    main()
