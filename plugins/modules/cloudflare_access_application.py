#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_access_application
short_description: Manage self-hosted Cloudflare Zero Trust Access applications
version_added: 0.1.0
description:
  - Makes sure a self-hosted Zero Trust Access application with a given name exists in the account
    with the given settings, or does not exist.
  - >-
    Links reusable policies (see M(homelab.mcp_edge.cloudflare_access_policy)) in the order given: the
    first policy has precedence 1.
  - Returns the application's RV(aud) tag, which C(cloudflared) needs to check Access tokens at the origin.
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
  name:
    description:
      - Name of the application; identifies it within the account.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the application; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  domain:
    description:
      - The host name (and optional path) the application protects, for example V(mcp.example.com) or
        V(example.com/admin). No scheme.
      - One of O(domain) and O(destinations) is required when the application is created.
      - When only O(domain) changes and the application's first public destination was the old domain,
        that destination follows.
    type: str
  destinations:
    description:
      - All the destinations the application protects; the first public one is the primary domain.
      - >-
        Each item is a host name (and optional path), taken as a public destination, or a mapping in the
        API form such as C({type: public, uri: mcp.example.com}) or C({type: private, hostname: nas.lan}).
      - Compared in order.
    type: list
    elements: raw
  session_duration:
    description:
      - How long a session lasts before users must log in again, for example V(24h) or V(30m).
    type: str
  allowed_idps:
    description:
      - Identity providers users may log in with, by name (as in
        M(homelab.mcp_edge.cloudflare_access_identity_provider_info)) or ID. V([]) allows all of them.
      - Compared as a set.
    type: list
    elements: str
  auto_redirect_to_identity:
    description:
      - Skip the identity provider selection page when only one provider is allowed.
    type: bool
  app_launcher_visible:
    description:
      - Whether the application shows in the App Launcher.
    type: bool
  policies:
    description:
      - Reusable policies linked to the application, by name or ID, in precedence order (the first one is
        evaluated first). V([]) unlinks them all. Every name must exist; the error lists those that do.
    type: list
    elements: str
  tags:
    description:
      - Access tags of the application (compared as a set). The tags must already exist in the account.
    type: list
    elements: str
  custom_deny_message:
    description:
      - The message users see when they are denied.
    type: str
notes:
  - Options that are left out keep the values the application has; only differences are written (one C(PUT)).
  - The module reads the application by name once per task, the policies once when O(policies) has names,
    and the identity providers once when O(allowed_idps) has names.
seealso:
  - module: homelab.mcp_edge.cloudflare_access_policy
  - module: homelab.mcp_edge.cloudflare_access_identity_provider_info
  - name: Self-hosted applications
    description: Cloudflare's documentation of self-hosted Access applications.
    link: https://developers.cloudflare.com/cloudflare-one/applications/configure-apps/self-hosted-public-app/
"""

EXAMPLES = r"""
- name: Protect the MCP server; owner first, then the service tokens
  homelab.mcp_edge.cloudflare_access_application:
    name: time
    domain: time.example.com
    session_duration: 24h
    allowed_idps: [GitHub]
    auto_redirect_to_identity: true
    policies: [owner, mcp-clients]
  delegate_to: localhost
  register: app

- name: cloudflared checks the Access token with the application's aud tag
  ansible.builtin.debug:
    msg: "audTag: {{ app.aud }}"

- name: Several destinations
  homelab.mcp_edge.cloudflare_access_application:
    name: n8n
    destinations:
      - n8n.example.com
      - n8n.example.com/webhook-test
    policies: [owner]
  delegate_to: localhost

- name: Delete the application
  homelab.mcp_edge.cloudflare_access_application:
    name: time
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
id:
  description: ID of the application. V(null) when it does not exist, or would be created in check mode.
  returned: always
  type: str
  sample: 1f1c5a2e-54a0-4c6e-9a8b-3c0f7c7d1e21
aud:
  description: The application's audience (AUD) tag, for C(originRequest.access.audTag) in C(cloudflared).
    V(null) when it does not exist, or would be created in check mode.
  returned: always
  type: str
  sample: 737646a56ab1df6ec9bddc7e5ca84eaf3b0768850f3ffb5d74f1534911fe3893
application:
  description: The application after the task (before it, for O(state=absent)).
  returned: always
  type: dict
  contains:
    id:
      description: Application ID.
      type: str
    aud:
      description: Audience tag.
      type: str
    name:
      description: Name.
      type: str
    type:
      description: Always V(self_hosted) for applications this module creates.
      type: str
    domain:
      description: Primary domain.
      type: str
    destinations:
      description: Destinations.
      type: list
      elements: dict
    session_duration:
      description: Session duration.
      type: str
    allowed_idps:
      description: IDs of the allowed identity providers.
      type: list
      elements: str
    auto_redirect_to_identity:
      description: Whether the IdP selection is skipped.
      type: bool
    app_launcher_visible:
      description: Whether it shows in the App Launcher.
      type: bool
    policies:
      description: IDs of the linked policies, in precedence order.
      type: list
      elements: str
    tags:
      description: Tags.
      type: list
      elements: str
    custom_deny_message:
      description: Deny message.
      type: str
  sample:
    id: 1f1c5a2e-54a0-4c6e-9a8b-3c0f7c7d1e21
    aud: 737646a56ab1df6ec9bddc7e5ca84eaf3b0768850f3ffb5d74f1534911fe3893
    name: time
    type: self_hosted
    domain: time.example.com
    destinations:
      - type: public
        uri: time.example.com
    session_duration: 24h
    allowed_idps: []
    policies: [f174e90a-fafe-4643-bbbc-4a0ed4fc8415]
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access import (
    AccessError,
    AccessTask,
    durations_equal,
    merge_body,
    policy_ids_in_order,
    same_set,
    validate_duration,
    validate_text,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import (
    CloudflareModule,
    DifferenceTracker,
    changed_fields,
)

SETTINGS = (
    "session_duration",
    "allowed_idps",
    "auto_redirect_to_identity",
    "app_launcher_visible",
    "tags",
    "custom_deny_message",
)
VIEW_FIELDS = ("id", "aud", "name", "type", "domain", "destinations", *SETTINGS, "policies")
# What a PUT carries over from the application as read (the API replaces the whole object).
WRITABLE = (
    "type",
    "name",
    "domain",
    "destinations",
    *SETTINGS,
    "enable_binding_cookie",
    "http_only_cookie_attribute",
    "options_preflight_bypass",
    "skip_interstitial",
    "service_auth_401_redirect",
    "same_site_cookie_attribute",
    "path_cookie_attribute",
    "custom_deny_url",
    "custom_non_identity_deny_url",
    "custom_pages",
    "logo_url",
    "cors_headers",
    "allow_authenticate_via_warp",
    "policies",
)


def normalize_destination(dest):
    if not isinstance(dest, dict):
        return dest
    out = {k: v for k, v in dest.items() if v is not None}
    out.setdefault("type", "public")
    if out["type"] == "public" and isinstance(out.get("uri"), str):
        out["uri"] = out["uri"].strip().lower()
    return out


def destinations_equal(have, want):
    return [normalize_destination(d) for d in have or []] == [normalize_destination(d) for d in want or []]


def domains_equal(have, want):
    return isinstance(have, str) and isinstance(want, str) and have.strip().lower() == want.strip().lower()


COMPARATORS = {
    "domain": domains_equal,
    "destinations": destinations_equal,
    "session_duration": lambda have, want: durations_equal(want, have),
    "allowed_idps": same_set,
    "tags": same_set,
    "policies": lambda have, want: list(have or []) == list(want or []),
}


def validate_domain_uri(value, where):
    text = validate_text(value, where)
    if "://" in text:
        raise AccessError("%s: %r: give the host name (and optional path) without the scheme" % (where, value))
    if " " in text or text.startswith("/"):
        raise AccessError("%s: %r is not a host name with an optional path (e.g. mcp.example.com)" % (where, value))
    return text


def translate_destinations(items):
    if items is None:
        return None
    out = []
    for i, item in enumerate(items):
        where = "destinations[%d]" % i
        if isinstance(item, str):
            out.append({"type": "public", "uri": validate_domain_uri(item, where)})
        elif isinstance(item, dict):
            dest = dict(item)
            dest.setdefault("type", "public")
            if dest["type"] == "public":
                dest["uri"] = validate_domain_uri(dest.get("uri"), where + ".uri")
            elif dest["type"] != "private":
                raise AccessError("%s.type: %r is not valid (expected public or private)" % (where, dest["type"]))
            out.append(dest)
        else:
            raise AccessError(
                "%s: expected a host name or a mapping such as {type: public, uri: HOST}, got %r" % (where, item)
            )
    return out


class ApplicationManager:
    def __init__(self, cf, task=None):
        self.cf = cf
        self.params = cf.params
        self.task = task
        self.tracker = DifferenceTracker()

    def desired(self):
        p = self.params
        directory = self.task.directory
        want = {
            "domain": validate_domain_uri(p["domain"], "domain") if p.get("domain") is not None else None,
            "destinations": translate_destinations(p.get("destinations")),
            "session_duration": None,
            "allowed_idps": directory.resolve_many("identity_provider", p.get("allowed_idps"), "allowed_idps"),
            "auto_redirect_to_identity": p.get("auto_redirect_to_identity"),
            "app_launcher_visible": p.get("app_launcher_visible"),
            "tags": p.get("tags"),
            "custom_deny_message": p.get("custom_deny_message"),
            "policies": directory.resolve_many("policy", p.get("policies"), "policies"),
        }
        if p.get("session_duration") is not None:
            want["session_duration"] = validate_duration(p["session_duration"], "session_duration")
        if want["policies"]:
            seen = {}
            for i, pid in enumerate(want["policies"]):
                if pid in seen:
                    raise AccessError(
                        "policies[%d]: %r links the same policy as policies[%d]; each policy can be linked once"
                        % (i, p["policies"][i], seen[pid])
                    )
                seen[pid] = i
        if want["domain"] is not None and want["destinations"]:
            publics = [d.get("uri", "").lower() for d in want["destinations"] if d.get("type") == "public"]
            if publics and publics[0] != want["domain"].lower():
                raise AccessError(
                    "domain: %r must be the first public destination (destinations[0] is %r); give one of them"
                    % (want["domain"], publics[0])
                )
        return want

    def run(self):
        self.task = self.task or AccessTask(self.cf)
        name = self.params["name"]
        existing = self.task.find_by_name("application", name, params={"name": name, "exact": "true"})
        if existing is not None:
            existing = dict(existing, policies=policy_ids_in_order(existing))
        if self.params["state"] == "absent":
            if existing is None:
                return self.result(False, {})
            self.task.remove("application", existing["id"])
            before = self.view(existing)
            return self.result(True, before, gone=True, diff={"before": before, "after": {}})
        want = self.desired()
        if existing is None:
            return self.create(name, want)
        return self.update(name, existing, want)

    def create(self, name, want):
        if not want["domain"] and not want["destinations"]:
            raise AccessError(
                "domain: application %r does not exist yet; give domain (or destinations) to create it" % name
            )
        body = {"type": "self_hosted", "name": name}
        body.update({k: v for k, v in want.items() if v is not None})
        if want["policies"] is not None:
            body["policies"] = [{"id": pid, "precedence": i + 1} for i, pid in enumerate(want["policies"])]
        created = self.task.create("application", body, name_filter=True)
        if created is None:  # check mode
            after = self.view(dict(body, policies=want["policies"] or []))
        else:
            after = self.view(dict(created, policies=policy_ids_in_order(created)))
        return self.result(True, after, diff={"before": {}, "after": after})

    def update(self, name, existing, want):
        if want["domain"] is not None and want["destinations"] is None:
            # The primary domain is the first public destination: move it along with the domain.
            dests = existing.get("destinations") or []
            old = (existing.get("domain") or "").lower()
            if dests and not domains_equal(existing.get("domain"), want["domain"]):
                moved = [dict(d) for d in dests]
                for d in moved:
                    if d.get("type", "public") == "public" and (d.get("uri") or "").lower() == old:
                        d["uri"] = want["domain"]
                        break
                want["destinations"] = moved
        changes = changed_fields(existing, want, self.tracker, comparators=COMPARATORS)
        before = self.view(existing)
        if not changes:
            return self.result(False, before)
        body = merge_body(existing, changes, WRITABLE)
        body["name"] = name
        body.setdefault("type", "self_hosted")
        body["policies"] = [{"id": pid, "precedence": i + 1} for i, pid in enumerate(body.get("policies") or [])]
        updated = self.task.replace("application", existing["id"], body)
        if updated is None:  # check mode
            after = self.view(dict(existing, **changes))
        else:
            after = self.view(dict(updated, policies=policy_ids_in_order(updated)))
        return self.result(True, after, diff={"before": before, "after": after})

    def view(self, app):
        return {k: app.get(k) for k in VIEW_FIELDS if k in app}

    def result(self, changed, app, diff=None, gone=False):
        out = {
            "changed": changed,
            "id": None if gone else app.get("id"),
            "aud": None if gone else app.get("aud"),
            "application": app,
        }
        if diff is not None and self.cf.diff_mode:
            out["diff"] = diff
        return out


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        domain=dict(type="str"),
        destinations=dict(type="list", elements="raw"),
        session_duration=dict(type="str"),
        allowed_idps=dict(type="list", elements="str"),
        auto_redirect_to_identity=dict(type="bool"),
        app_launcher_visible=dict(type="bool"),
        policies=dict(type="list", elements="str"),
        tags=dict(type="list", elements="str"),
        custom_deny_message=dict(type="str"),
    )
    cf = CloudflareModule(argument_spec=argument_spec, supports_check_mode=True)
    cf.run(ApplicationManager(cf).run)


if __name__ == "__main__":
    main()
