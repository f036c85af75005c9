# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Self-hosted Access applications (private): behind cloudflare_access_application and _access_config."""

from __future__ import annotations

from ansible_collections.homelab.mcp_edge.plugins.module_utils._access import (
    AccessManager,
    merge_body,
    policy_ids_in_order,
    same_set,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_rules import (
    AccessError,
    durations_equal,
    validate_duration,
    validate_text,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils._diff import changed_fields
from ansible_collections.homelab.mcp_edge.plugins.module_utils._errors import CloudflareOwnershipError
from ansible_collections.homelab.mcp_edge.plugins.module_utils._values import check_owner_id

# --------------------------------------------------------------------------------------------
# Ownership of applications: an Access tag per site
# --------------------------------------------------------------------------------------------

# Access applications have no hidden label field; their tags (account-wide Access tag objects, shown as
# filters in the App Launcher) are the one place to record which site made them.
OWNER_TAG_PREFIX = "mcp_edge "
# Cloudflare's dashboard allows Access tag names of up to 35 characters.
OWNER_TAG_MAX = 35
OWNER_ID_MAX = OWNER_TAG_MAX - len(OWNER_TAG_PREFIX)


def owner_tag(owner_id):
    """The Access tag that marks the applications of ``owner_id`` (None without an owner)."""
    return OWNER_TAG_PREFIX + owner_id if owner_id else None


def check_access_owner_id(owner_id, option="owner_id"):
    check_owner_id(owner_id, option=option, max_length=OWNER_ID_MAX)


def app_owner_tags(app):
    """The owner tags (of any site) an application carries."""
    return [t for t in (app or {}).get("tags") or [] if isinstance(t, str) and t.startswith(OWNER_TAG_PREFIX)]


def app_owned(app, owner_id):
    """Whether ``app`` carries ``owner_id``'s tag (always True without an owner id)."""
    return not owner_id or owner_tag(owner_id) in ((app or {}).get("tags") or [])


def foreign_app_reason(app):
    others = app_owner_tags(app)
    if others:
        return "it carries %s, another site's tag" % ", ".join(repr(t) for t in others)
    tags = (app or {}).get("tags") or []
    return "its tags: %s" % ", ".join(repr(t) for t in tags) if tags else "it has no tags"


def describe_app(app):
    return "Access application %r (id %s, domain %s)" % (app.get("name"), app.get("id"), app.get("domain"))


def owned_tags(tags, owner_id):
    """``tags`` with ``owner_id``'s tag and without any other site's."""
    tag = owner_tag(owner_id)
    out = [t for t in tags or [] if not (isinstance(t, str) and t.startswith(OWNER_TAG_PREFIX))]
    out.append(tag)
    return out


# --------------------------------------------------------------------------------------------
# The application
# --------------------------------------------------------------------------------------------

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


# The options of an application (cloudflare_access_application adds owner_id; cloudflare_access_config has
# one owner_id for all its applications).
APPLICATION_OPTIONS = dict(
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
    adopt=dict(type="bool", default=False),
)

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


def foreign_app_error(apps, owner_id):
    """The error for applications with wanted names that ``owner_id`` did not create (all named at once)."""
    tag = owner_tag(owner_id)
    return CloudflareOwnershipError(
        "%s. Nothing was changed. To manage such an application here, set adopt: true on it (it then gets the "
        "tag); otherwise rename or delete it, or give this site's application another name."
        % "; ".join(
            "%s exists but was not created by site %r (it lacks the Access tag %r; %s)"
            % (describe_app(a), owner_id, tag, foreign_app_reason(a))
            for a in apps
        )
    )


class ApplicationManager(AccessManager):
    def __init__(self, cf, task=None):
        super().__init__(cf, task)
        # The site: applications carry its Access tag; an untagged one is not touched unless adopted.
        self.owner = self.params.get("owner_id")
        self.adopt = bool(self.params.get("adopt"))

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

    def apply(self):
        check_access_owner_id(self.owner)
        name = self.params["name"]
        existing = self.task.find_by_name("application", name, params={"name": name, "exact": "true"})
        if existing is not None:
            existing = dict(existing, policies=policy_ids_in_order(existing))
        foreign = existing is not None and not app_owned(existing, self.owner)
        if self.params["state"] == "absent":
            if existing is None:
                return self.result("none", {})
            if foreign and not self.adopt:
                self.cf.module.warn(
                    "%s was not created by site %r (%s): left alone. Set adopt: true to delete it anyway."
                    % (describe_app(existing), self.owner, foreign_app_reason(existing))
                )
                return self.result("none", self.view(existing))
            self.task.remove("application", existing["id"])
            if self.owner and not foreign:
                self.task.tags_released.add(owner_tag(self.owner))
            return self.result("delete", {}, before=self.view(existing))
        if foreign and not self.adopt:
            raise foreign_app_error([existing], self.owner)
        want = self.desired()
        if self.owner:
            # Our tag on top of the tags asked for (or kept); another site's tag goes when adopting.
            keep = want["tags"] if want["tags"] is not None else (existing or {}).get("tags") or []
            want["tags"] = owned_tags(keep, self.owner)
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
        self.task.ensure_tags(body.get("tags"))
        created = self.task.create("application", body, name_filter=True)
        if created is None:  # check mode
            after = self.view(dict(body, policies=want["policies"] or []))
        else:
            after = self.view(dict(created, policies=policy_ids_in_order(created)))
        return self.result("create", after, before={})

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
        changes = changed_fields(existing, want, comparators=COMPARATORS)
        before = self.view(existing)
        if not changes:
            return self.result("none", before)
        body = merge_body(existing, changes, WRITABLE)
        body["name"] = name
        body.setdefault("type", "self_hosted")
        body["policies"] = [{"id": pid, "precedence": i + 1} for i, pid in enumerate(body.get("policies") or [])]
        if "tags" in changes:
            self.task.ensure_tags(changes["tags"], carried=existing.get("tags"))
        updated = self.task.replace("application", existing["id"], body)
        if updated is None:  # check mode
            after = self.view(dict(existing, **changes))
        else:
            after = self.view(dict(updated, policies=policy_ids_in_order(updated)))
        return self.result("update", after, before=before)

    def view(self, app):
        return {k: app.get(k) for k in VIEW_FIELDS if k in app}

    def result(self, action, after, before=None):
        """``after``: the application after the task ({} once deleted; the return value shows ``before`` then)."""
        shown = before if action == "delete" else after
        return self.outcome(action, before, after, id=after.get("id"), aud=after.get("aud"), application=shown)
