# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Cloudflare Tunnels: secrets, owner marks, tokens, credentials, and the tunnel managers.

PRIVATE: an implementation detail of homelab.mcp_edge, free to change in any release.

* secrets: ``generate_tunnel_secret``, ``check_tunnel_secret``; the owner's mark inside a secret
  (``mark_tunnel_secret``, ``tunnel_secret_owned``, ``unmarked_tunnel_secret``);
* tokens and credentials: ``decode_tunnel_token``, ``encode_tunnel_token``, ``tunnel_credentials``
  (the ``<tunnel-id>.json`` cloudflared reads); ``public_tunnel`` drops the secret fields;
* ``find_tunnel`` and ``create_tunnel`` (a retried create re-reads the tunnel by name);
* the managers (``_diff.Manager``) of cloudflare_tunnel, cloudflare_tunnel_config and
  cloudflare_tunnel_info. Ingress rules themselves (both forms) are ``_ingress``'s.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import api_path
from ansible_collections.homelab.mcp_edge.plugins.module_utils._diff import Manager, Outcome, normalise
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import (
    CloudflareError,
    CloudflareInputError,
    CloudflareOwnershipError,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._ingress import IngressError, api_ingress
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import check_owner_id, is_uuid

SECRET_FIELDS = ("credentials_file", "token", "tunnel_secret", "secret")


def tunnel_path(account_id, *rest):
    """``/accounts/<account>/cfd_tunnel[/<tunnel>[/<what>]]``."""
    return api_path("accounts", account_id, "cfd_tunnel", *rest)


def public_tunnel(tunnel):
    """The tunnel without its secret fields, with ``config_src`` spelled out."""
    out = {k: v for k, v in (tunnel or {}).items() if k not in SECRET_FIELDS}
    if out:
        out["config_src"] = "cloudflare" if out.get("remote_config") else "local"
    return out


def generate_tunnel_secret():
    """Base64 of 32 random bytes, as cloudflared generates it."""
    return base64.b64encode(os.urandom(32)).decode("ascii")


def check_tunnel_secret(secret):
    """Raise CloudflareInputError unless ``secret`` is base64 of at least 32 bytes."""
    try:
        raw = base64.b64decode(secret, validate=True)
    except (ValueError, TypeError):
        raise CloudflareInputError(
            "must be base64 of at least 32 random bytes (for example the output of `openssl rand -base64 32`); "
            "the value given is not valid base64",
            option="tunnel_secret",
        ) from None
    if len(raw) < 32:
        raise CloudflareInputError(
            "must be base64 of at least 32 random bytes; the value given decodes to %d bytes" % len(raw),
            option="tunnel_secret",
        )


# Cloudflare's tunnel API has no field for labels (create takes name, config_src and tunnel_secret;
# the answer's metadata cannot be set), so the owner (the site) of a tunnel this collection creates is
# recorded in its secret: the random bytes, then a 16-byte HMAC-SHA256 tag of them keyed by the owner
# id. It is a label, like the DNS comment, not a lock: anyone who can read the tunnel's token can
# compute it. The random part keeps its full strength.
TUNNEL_MARK_BYTES = 16
_TUNNEL_MARK_KEY = b"homelab.mcp_edge tunnel owner "


def _tunnel_mark(owner_id, raw):
    key = _TUNNEL_MARK_KEY + owner_id.encode("utf-8")
    return hmac.new(key, raw, hashlib.sha256).digest()[:TUNNEL_MARK_BYTES]


def _secret_bytes(secret):
    try:
        return base64.b64decode(secret or "", validate=True)
    except (ValueError, TypeError):
        return b""


def mark_tunnel_secret(secret, owner_id):
    """``secret`` (base64) followed by the owner's tag, as base64: the secret a tunnel of ``owner_id`` gets."""
    raw = _secret_bytes(secret)
    return base64.b64encode(raw + _tunnel_mark(owner_id, raw)).decode("ascii")


def tunnel_secret_owned(secret, owner_id):
    """Whether ``secret`` (base64) ends with ``owner_id``'s tag over the bytes before it."""
    raw = _secret_bytes(secret)
    if len(raw) < 32 + TUNNEL_MARK_BYTES:
        return False
    body, tag = raw[:-TUNNEL_MARK_BYTES], raw[-TUNNEL_MARK_BYTES:]
    return hmac.compare_digest(tag, _tunnel_mark(owner_id, body))


def unmarked_tunnel_secret(secret, owner_id):
    """The secret without ``owner_id``'s tag (as given to ``mark_tunnel_secret``); unchanged when unmarked."""
    if not tunnel_secret_owned(secret, owner_id):
        return secret
    return base64.b64encode(_secret_bytes(secret)[:-TUNNEL_MARK_BYTES]).decode("ascii")


def find_tunnel(client, account_id, name):
    """The live (not deleted) tunnel called ``name``, or None."""
    items = client.paginate(tunnel_path(account_id), params={"name": name, "is_deleted": "false"}, per_page=50)
    for t in items or []:
        if t.get("name") == name and not t.get("deleted_at"):
            return t
    return None


def create_tunnel(client, account_id, name, config_src, secret):
    """POST a tunnel; a retried create that meets 'name taken' re-reads the tunnel by name."""
    body = {"name": name, "config_src": config_src, "tunnel_secret": secret}
    return client.post(tunnel_path(account_id), json=body, recover=lambda: find_tunnel(client, account_id, name))


def decode_tunnel_token(token):
    """``{"a": account_tag, "t": tunnel_id, "s": secret}`` from a tunnel token."""
    if not token:
        return {}
    text = token.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        data = json.loads(base64.b64decode(padded).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        try:
            data = json.loads(base64.urlsafe_b64decode(padded).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return {}
    return data if isinstance(data, dict) else {}


def encode_tunnel_token(account_tag, tunnel_id, secret):
    raw = json.dumps({"a": account_tag, "t": tunnel_id, "s": secret}, separators=(",", ":"))
    return base64.b64encode(raw.encode("utf-8")).decode("ascii")


def tunnel_credentials(account_tag, tunnel_id, secret, endpoint=""):
    """The dict cloudflared reads from ``<tunnel-id>.json``."""
    return {"AccountTag": account_tag, "TunnelSecret": secret, "TunnelID": tunnel_id, "Endpoint": endpoint}


# ============================================================================================
# Managers
# ============================================================================================


def build_config(rules, origin_request, catch_all):
    """The module's rules -> (ingress list, global originRequest) in the API form (``_ingress.api_ingress``)."""
    try:
        return api_ingress(rules, origin_request, catch_all)
    except IngressError as exc:
        raise CloudflareInputError("invalid ingress: " + " ".join(exc.problems), option="rules") from None


class TunnelManager(Manager):
    """cloudflare_tunnel: create, re-key, adopt or delete one tunnel; returns its credentials or token."""

    def __init__(self, cf):
        super().__init__(cf)
        self.result = {"secret_rotated": False, "adopted": False, "tunnel": {}}
        self.owner = self.params.get("owner_id")
        self.adopt = bool(self.params.get("adopt"))

    def apply(self):
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
            action = "delete"
            self.absent(tunnel)
        elif tunnel is None:
            action = "create"
            self.create()
        else:
            action = "update"
            self.present(tunnel)
        return Outcome.from_tracker(self.tracker, action, header="tunnel %s" % name, **self.result)

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


class TunnelConfigManager(Manager):
    """cloudflare_tunnel_config: the configuration (ingress, originRequest, WARP routing) of a
    remote-managed tunnel, read once and written only when it differs."""

    def find(self, account):
        ref = self.params["tunnel"]
        if is_uuid(ref):
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

    def apply(self):
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
        return Outcome(
            "update" if self.tracker.has_differences else "none",
            canonical(current),
            canonical(new),
            header="tunnel %s configuration" % tunnel.get("name"),
            **result,
        )


class TunnelInfoManager(Manager):
    """cloudflare_tunnel_info: tunnels by name or id, with their remote configuration on request."""

    def apply(self):
        return Outcome("none", tunnels=self.tunnels())

    def tunnels(self):
        client = self.client
        params = self.params
        account = client.resolve_account_id(zone=params["zone"])
        if params["tunnel_id"]:
            tunnels = [client.get(tunnel_path(account, params["tunnel_id"]))]
        else:
            query = {"name": params["name"]}
            if not params["include_deleted"]:
                query["is_deleted"] = "false"
            tunnels = client.paginate(tunnel_path(account), params=query, per_page=1000)
        out = []
        for t in tunnels:
            if not isinstance(t, dict):
                continue
            if params["name"] and t.get("name") != params["name"]:
                continue
            if not params["include_deleted"] and t.get("deleted_at"):
                continue
            item = public_tunnel(t)
            if params["include_config"] and item.get("remote_config"):
                conf = client.get(tunnel_path(account, t["id"], "configurations")) or {}
                item["config"] = conf.get("config") or {}
            out.append(item)
        return out
