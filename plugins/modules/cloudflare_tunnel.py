#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_tunnel
short_description: Create, update and delete Cloudflare Tunnels
version_added: 0.1.0
description:
  - Makes sure a Cloudflare Tunnel (C(cfd_tunnel)) with a given name exists or does not exist in an account.
  - Returns what C(cloudflared) needs to run it, also when the tunnel already existed, so a rerun can
    still write the credentials file. For a locally managed tunnel (O(config_src=local)) that is
    RV(credentials), the content of C(<tunnel-id>.json); for a remote-managed one (O(config_src=cloudflare))
    it is RV(token), for C(cloudflared tunnel run --token).
  - Can rotate the tunnel secret, and remove live connections before deleting.
  - "With O(owner_id) (the site), the tunnel is this owner's only if this module created it for that owner:
    Cloudflare's tunnel API has no field for labels, so the owner is recorded in the tunnel secret (32 random
    bytes, then a 16-byte HMAC-SHA256 tag of them keyed by the owner id; it labels, it does not protect). A live
    tunnel of the wanted name without that tag (made by hand, by another site, or by release 0.2 of this
    collection) fails the task, naming it, unless O(adopt=true); O(state=absent) leaves it alone with a warning."
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
    support: partial
    details:
      - The module is idempotent unless O(rotate_secret=true), which changes the secret on every run.
options:
  name:
    description:
      - Name of the tunnel; unique among the account's live tunnels.
    type: str
    required: true
  state:
    description:
      - V(present) creates the tunnel when it is missing; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  config_src:
    description:
      - Where the tunnel's ingress configuration lives. V(local) is a C(config.yml) next to C(cloudflared)
        (see the C(homelab.mcp_edge.cloudflared) role); V(cloudflare) is remote-managed (see
        M(homelab.mcp_edge.cloudflare_tunnel_config)).
      - Only used when the tunnel is created (default V(local) then). The API cannot change it afterwards,
        so giving a different value for an existing tunnel is an error.
    type: str
    choices: [local, cloudflare]
  tunnel_secret:
    description:
      - Base64 of at least 32 random bytes, for example from C(openssl rand -base64 32).
      - When creating, the secret of the new tunnel; default is 32 fresh random bytes.
      - For an existing tunnel whose secret differs, the secret is replaced.
      - Ansible masks this value wherever it appears in the output, including inside RV(credentials).
    type: str
  rotate_secret:
    description:
      - Replace the secret of an existing tunnel with O(tunnel_secret), or with 32 fresh random bytes
        when O(tunnel_secret) is not set. Running C(cloudflared) instances need the new credentials.
    type: bool
    default: false
  cleanup_connections:
    description:
      - With O(state=absent), remove the tunnel's live connections first; the API refuses to delete a
        tunnel that still has connections.
    type: bool
    default: false
  zone:
    description:
      - A zone of the account; used only to find the account when O(account_id) is not set.
    type: str
  owner_id:
    description:
      - The site this tunnel belongs to (the role C(homelab.mcp_edge.cloudflare_edge) passes C(homelab_site)).
      - A tunnel created with it carries the owner's tag in its secret (see the description); an existing tunnel
        whose secret lacks the tag is refused (O(state=present)) or left alone (O(state=absent)) unless
        O(adopt=true). A secret given in O(tunnel_secret) is stored followed by the tag, and compared without it.
      - Left out, any tunnel of the name is taken as is (the behaviour of release 0.2).
      - Letters, digits, C(.), C(_) and C(-), at most 40 characters.
    type: str
    version_added: 0.3.0
  adopt:
    description:
      - Take over a tunnel of the wanted name that does not carry O(owner_id)'s tag.
      - With O(state=present) its secret is replaced by one that carries the tag (O(tunnel_secret), or 32 fresh
        random bytes), so running C(cloudflared) connectors need the new RV(credentials) or RV(token), as after
        O(rotate_secret); the role C(homelab.mcp_edge.cloudflare_edge) hands them over in the same run. With
        O(state=absent) it is deleted.
    type: bool
    default: false
    version_added: 0.3.0
notes:
  - RV(credentials) and RV(token) are secrets. With O(state=present) the module refuses to run, before
    any API call, unless the task sets C(no_log=true); register the result to use them
    (the role C(homelab.mcp_edge.cloudflare_edge) does).
seealso:
  - module: homelab.mcp_edge.cloudflare_tunnel_info
  - module: homelab.mcp_edge.cloudflare_tunnel_config
"""

EXAMPLES = r"""
- name: Create the tunnel and keep what cloudflared needs
  homelab.mcp_edge.cloudflare_tunnel:
    name: home
    account_id: "{{ cloudflare_account_id }}"
    api_token: "{{ vault_cloudflare_api_token }}"
  delegate_to: localhost
  no_log: true
  register: tunnel

- name: The directory cloudflared reads on the host
  ansible.builtin.file:
    path: /etc/cloudflared
    state: directory
    mode: "0755"

- name: Write the credentials file on the host
  ansible.builtin.copy:
    content: "{{ tunnel.credentials | to_json }}"
    dest: "/etc/cloudflared/{{ tunnel.tunnel.id }}.json"
    mode: "0400"
  no_log: true

- name: A remote-managed tunnel, account taken from the zone
  homelab.mcp_edge.cloudflare_tunnel:
    name: edge
    config_src: cloudflare
    zone: example.com
  delegate_to: localhost
  no_log: true
  register: edge

- name: Rotate the secret
  homelab.mcp_edge.cloudflare_tunnel:
    name: home
    rotate_secret: true
  delegate_to: localhost
  no_log: true

- name: Delete the tunnel, dropping its connections first
  homelab.mcp_edge.cloudflare_tunnel:
    name: home
    state: absent
    cleanup_connections: true
  delegate_to: localhost
"""

RETURN = r"""
tunnel:
  description:
    - The tunnel as the API describes it (without secrets). Empty after O(state=absent).
    - In check mode, a tunnel that would be created has no RV(tunnel.id).
  returned: always
  type: dict
  contains:
    id:
      description: Tunnel UUID.
      type: str
      sample: 6ff42ae2-765d-4adf-8112-31c55c1551ef
    name:
      description: Tunnel name.
      type: str
      sample: home
    account_tag:
      description: Account ID the tunnel belongs to.
      type: str
      sample: 023e105f4ecef8ad9ca31a8372d0c353
    status:
      description: V(inactive), V(down), V(degraded) or V(healthy).
      type: str
      sample: inactive
    config_src:
      description: V(local) or V(cloudflare) (remote-managed).
      type: str
      sample: local
    remote_config:
      description: Whether the configuration is remote-managed.
      type: bool
      sample: false
    created_at:
      description: Creation time.
      type: str
      sample: "2026-01-01T00:00:00Z"
    connections:
      description: Live connections.
      type: list
      elements: dict
      sample: []
credentials:
  description:
    - The content of C(<tunnel-id>.json) that C(cloudflared) reads for a locally managed tunnel.
    - B(Sensitive.) Register it in a task with C(no_log=true).
  returned: when O(state=present), the tunnel is locally managed, and not in check mode for a new tunnel
  type: dict
  contains:
    AccountTag:
      description: Account ID.
      type: str
    TunnelSecret:
      description: Base64 tunnel secret.
      type: str
    TunnelID:
      description: Tunnel UUID.
      type: str
    Endpoint:
      description: Always empty.
      type: str
  sample:
    AccountTag: 023e105f4ecef8ad9ca31a8372d0c353
    TunnelSecret: "<secret>"
    TunnelID: 6ff42ae2-765d-4adf-8112-31c55c1551ef
    Endpoint: ""
token:
  description:
    - The token for C(cloudflared tunnel run --token) of a remote-managed tunnel.
    - B(Sensitive.) Register it in a task with C(no_log=true).
  returned: when O(state=present), the tunnel is remote-managed, and not in check mode for a new tunnel
  type: str
  sample: eyJhIjoi...
adopted:
  description: Whether a tunnel not carrying O(owner_id)'s tag was taken over (O(adopt=true)) in this run.
  returned: always
  type: bool
  sample: false
  version_added: 0.3.0
secret_rotated:
  description: Whether the tunnel secret was replaced in this run (also when it was adopted).
  returned: always
  type: bool
  sample: false
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 3
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import (
    CloudflareError,
    CloudflareInputError,
    CloudflareModule,
    CloudflareOwnershipError,
    DifferenceTracker,
    check_owner_id,
    check_tunnel_secret,
    create_tunnel,
    decode_tunnel_token,
    encode_tunnel_token,
    find_tunnel,
    generate_tunnel_secret,
    mark_tunnel_secret,
    tunnel_credentials,
    tunnel_path,
    tunnel_secret_owned,
    unmarked_tunnel_secret,
)

SECRET_FIELDS = ("credentials_file", "token", "tunnel_secret", "secret")


def public_tunnel(tunnel):
    out = {k: v for k, v in (tunnel or {}).items() if k not in SECRET_FIELDS}
    if out:
        out["config_src"] = "cloudflare" if out.get("remote_config") else "local"
    return out


class TunnelManager:
    def __init__(self, cf):
        self.cf = cf
        self.client = cf.client
        self.params = cf.params
        self.tracker = DifferenceTracker()
        self.result = {"changed": False, "secret_rotated": False, "adopted": False, "tunnel": {}}
        self.owner = self.params.get("owner_id")
        self.adopt = bool(self.params.get("adopt"))

    def run(self):
        given = self.params["tunnel_secret"]
        if given:
            check_tunnel_secret(given)
        check_owner_id(self.owner)
        if self.params["state"] == "present" and not self.cf.module.no_log:
            # The result holds the credentials or token; without no_log, -v and every callback print them.
            raise CloudflareInputError(
                "state=present returns the tunnel's credentials (config_src=local) or token "
                "(config_src=cloudflare), and this task would print them: set no_log: true on the task "
                "and register the result to use them"
            )
        self.account = self.client.resolve_account_id(zone=self.params["zone"])
        name = self.params["name"]
        tunnel = find_tunnel(self.client, self.account, name)
        if self.params["state"] == "absent":
            self.absent(tunnel)
        elif tunnel is None:
            self.create()
        else:
            self.present(tunnel)
        self.result["changed"] = self.tracker.has_differences
        if self.cf.diff_mode:
            self.result["diff"] = self.tracker.diff("tunnel %s" % name, "tunnel %s" % name)
        return self.result

    # -- helpers that write (check mode is decided here) ------------------------------------

    def create(self):
        name = self.params["name"]
        config_src = self.params["config_src"] or "local"
        self.tracker.add("state", "absent", "present")
        self.tracker.add("config_src", None, config_src)
        if self.owner:
            self.tracker.add("owner_id", None, self.owner)
        if self.cf.check_mode:
            self.result["tunnel"] = {
                "name": name,
                "config_src": config_src,
                "remote_config": config_src == "cloudflare",
            }
            return
        secret = self.marked(self.params["tunnel_secret"] or generate_tunnel_secret())
        created = create_tunnel(self.client, self.account, name, config_src, secret)
        token = created.get("token")
        if not token or created.get("name") != name or "credentials_file" not in created:
            # Recovered after an ambiguous failure: the tunnel was read back by name.
            token = self.read_token(created["id"])
            secret = decode_tunnel_token(token).get("s") or secret
        self.finish(created, secret, token)

    def present(self, tunnel):
        token = self.read_token(tunnel["id"])
        decoded = decode_tunnel_token(token)
        secret = decoded.get("s")
        foreign = self.foreign(tunnel, secret)
        want_src = self.params["config_src"]
        have_src = "cloudflare" if tunnel.get("remote_config") else "local"
        if want_src and want_src != have_src:
            raise CloudflareInputError(
                "the tunnel %r exists with config_src=%s; the API cannot change it to %s. Leave config_src out, "
                "or delete the tunnel (state=absent) and create it again" % (tunnel.get("name"), have_src, want_src),
                option="config_src",
            )
        given = self.params["tunnel_secret"]
        new_secret = None
        if self.params["rotate_secret"] or foreign:
            new_secret = self.marked(given or generate_tunnel_secret())
        elif given and given != (unmarked_tunnel_secret(secret, self.owner) if self.owner else secret):
            new_secret = self.marked(given)
        if foreign:
            self.result["adopted"] = True
            self.tracker.add("owner_id", "(not marked)", self.owner)
        if new_secret is not None:
            self.tracker.add("tunnel_secret", "(current secret)", "(new secret)")
            self.result["secret_rotated"] = True
            if self.cf.check_mode:
                self.result["tunnel"] = public_tunnel(tunnel)
                return
            updated = self.client.patch(tunnel_path(self.account, tunnel["id"]), json={"tunnel_secret": new_secret})
            if isinstance(updated, dict) and updated.get("id"):
                tunnel = updated
            secret = new_secret
            token = encode_tunnel_token(
                decoded.get("a") or tunnel.get("account_tag") or self.account, tunnel["id"], secret
            )
        self.finish(tunnel, secret, token)

    def absent(self, tunnel):
        if tunnel is None:
            return
        secret = decode_tunnel_token(self.read_token(tunnel["id"])).get("s") if self.owner else None
        if self.owner and not tunnel_secret_owned(secret, self.owner):
            if not self.adopt:
                self.cf.module.warn(
                    "tunnel %r (id %s) was not created by owner %r (its secret carries no tag of that owner): left "
                    "alone. Set adopt: true to delete it anyway." % (tunnel.get("name"), tunnel.get("id"), self.owner)
                )
                self.result["tunnel"] = public_tunnel(tunnel)
                return
            self.result["adopted"] = True
        self.tracker.add("state", "present", "absent")
        self.result["tunnel"] = {}
        if self.cf.check_mode:
            return
        if self.params["cleanup_connections"]:
            self.client.delete(tunnel_path(self.account, tunnel["id"], "connections"))
        try:
            self.client.delete(tunnel_path(self.account, tunnel["id"]))
        except CloudflareError as exc:
            if exc.has_code(1022):
                exc.message += (
                    " (the tunnel still has live connections: set cleanup_connections=true to drop them first)"
                )
            raise

    # -- ownership --------------------------------------------------------------------------

    def marked(self, secret):
        """The secret a new or re-keyed tunnel gets: with an owner id, followed by the owner's tag."""
        return mark_tunnel_secret(secret, self.owner) if self.owner else secret

    def foreign(self, tunnel, secret):
        """True when the tunnel lacks the owner's tag and adopt is set; an error when adopt is not set."""
        if not self.owner or tunnel_secret_owned(secret, self.owner):
            return False
        if self.adopt:
            return True
        raise CloudflareOwnershipError(
            "tunnel %r (id %s) exists but was not created by owner %r: its secret carries no tag of that owner (it "
            "was made by hand, by another site, or by release 0.2 of this collection, which did not tag tunnels). "
            "Nothing was changed. If it is this owner's to manage, set adopt: true; its secret is then replaced by "
            "one carrying the tag, so running cloudflared connectors need the new credentials or token. Otherwise "
            "choose another tunnel name." % (tunnel.get("name"), tunnel.get("id"), self.owner)
        )

    # -- reads ------------------------------------------------------------------------------

    def read_token(self, tunnel_id):
        token = self.client.get(tunnel_path(self.account, tunnel_id, "token"))
        return token if isinstance(token, str) else None

    def finish(self, tunnel, secret, token):
        public = public_tunnel(tunnel)
        self.result["tunnel"] = public
        account_tag = tunnel.get("account_tag") or self.account
        if public.get("config_src") == "cloudflare":
            self.result["token"] = token or encode_tunnel_token(account_tag, tunnel["id"], secret)
        elif secret:
            self.result["credentials"] = tunnel_credentials(account_tag, tunnel["id"], secret)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        config_src=dict(type="str", choices=["local", "cloudflare"]),
        tunnel_secret=dict(type="str", no_log=True),
        rotate_secret=dict(type="bool", default=False, no_log=False),
        cleanup_connections=dict(type="bool", default=False),
        zone=dict(type="str"),
        owner_id=dict(type="str"),
        adopt=dict(type="bool", default=False),
    )
    cf = CloudflareModule(argument_spec=argument_spec, supports_check_mode=True)
    cf.run(TunnelManager(cf).run)


if __name__ == "__main__":
    main()
