# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Ownership by site: the DNS planner, the tunnel secret's tag, Access applications' tag, the renames of
policies and tokens, and the role's filters (pure functions and in-memory fakes, no network)."""

from __future__ import annotations

import base64
import copy
import itertools

import pytest
from ansible_collections.homelab.mcp_edge.plugins.filter.edge import (
    edge_access_config,
    edge_problems,
)
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _access_application as access_application
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _access_config as access_config
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _dns as dns
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _dns_records as dns_records
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _errors as errors
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _tunnel as tunnel
from ansible_collections.homelab.mcp_edge.plugins.module_utils._service_model import (
    normalize_services,
)
from ansible_collections.homelab.mcp_edge.plugins.modules import cloudflare_tunnel as tunnel_mod

ZONE = "example.com"
MARK = "managed-by: homelab.mcp_edge"
TARGET = "6ff42ae2-765d-4adf-8112-31c55c1551ef.cfargotunnel.com"


def want(**kw):
    kw.setdefault("type", "CNAME")
    rec = dns.validate_record(kw, ZONE, require_value=kw.get("state", "present") == "present")
    rec["state"] = kw.get("state", "present")
    return rec


def have(rid, rtype, name, content=None, **kw):
    rec = {"id": rid, "type": rtype, "name": name, "content": content, "ttl": 1, "proxied": True}
    rec.update({"comment": None, "tags": []})
    rec.update(kw)
    return rec


# ---------------------------------------------------------------------------- DNS: never a silent takeover


def test_a_cname_made_by_hand_with_the_same_target_is_refused_then_adopted():
    current = [have("r1", "CNAME", "time.example.com", TARGET)]
    wanted = [want(name="time", content=TARGET, proxied=True)]
    with pytest.raises(errors.CloudflareOwnershipError) as err:
        dns_records.plan_dns_records(current, wanted, owner_id="home", purge=True)
    assert "CNAME time.example.com (id r1): it carries no ownership marker" in str(err.value)
    assert "not created by owner 'home'" in str(err.value) and "set adopt: true" in str(err.value)
    plan = dns_records.plan_dns_records(current, wanted, owner_id="home", purge=True, adopt=True)
    assert plan.updates == [(current[0], {"comment": MARK + " home"})] and plan.creates == [] and plan.deletes == []


def test_another_sites_cname_on_a_wanted_name_is_refused_naming_its_owner():
    current = [have("r2", "CNAME", "time.example.com", "other.cfargotunnel.com", comment=MARK + " cabin")]
    wanted = [want(name="time", content=TARGET)]
    with pytest.raises(errors.CloudflareOwnershipError, match=r"\(id r2\): its marker names the owner 'cabin'"):
        dns_records.plan_dns_records(current, wanted, owner_id="home")
    plan = dns_records.plan_dns_records(current, wanted, owner_id="home", adopt=True)
    [(cur, patch)] = plan.updates
    assert cur["id"] == "r2" and patch == {"content": TARGET, "comment": MARK + " home"}


def test_every_foreign_record_is_named_at_once_and_nothing_is_planned():
    current = [
        have("a", "CNAME", "a.example.com", "x.example.net"),
        have("b", "CNAME", "b.example.com", TARGET, comment=MARK),
        have("c", "CNAME", "c.example.com", TARGET, comment=MARK + " home"),
    ]
    wanted = [want(name=n, content=TARGET) for n in ("a", "b", "c")]
    with pytest.raises(errors.CloudflareOwnershipError) as err:
        dns_records.plan_dns_records(current, wanted, owner_id="home")
    text = str(err.value)
    assert text.startswith("2 existing record(s)")
    assert "CNAME a.example.com (id a): it carries no ownership marker" in text
    assert "CNAME b.example.com (id b): its marker names no owner" in text
    assert "(id c)" not in text


def test_the_marker_of_release_0_2_is_the_sites_when_the_site_is_the_tunnel_name():
    # 0.2 wrote the tunnel name as owner id; the site defaults to it.
    current = [have("r", "CNAME", "time.example.com", TARGET, comment=MARK + " home")]
    plan = dns_records.plan_dns_records(current, [want(name="time", content=TARGET, proxied=True)], owner_id="home")
    assert not plan.changed and plan.unchanged == current


def test_a_second_txt_record_next_to_a_foreign_one_touches_nothing():
    current = [have("t", "TXT", "example.com", "google-site-verification=abc", proxied=False)]
    plan = dns_records.plan_dns_records(current, [want(type="TXT", name="@", content="v=spf1 -all")], owner_id="home")
    assert len(plan.creates) == 1 and plan.updates == [] and plan.deletes == []
    # The identical TXT record cannot be added twice (81058): it is refused like a takeover.
    with pytest.raises(errors.CloudflareOwnershipError, match=r"TXT example.com \(id t\)"):
        dns_records.plan_dns_records(
            current, [want(type="TXT", name="@", content="google-site-verification=abc")], "comment"
        )


def test_ours_is_preferred_over_a_foreign_twin():
    current = [
        have("foreign", "A", "h.example.com", "192.0.2.1", proxied=False),
        have("ours", "A", "h.example.com", "192.0.2.1", proxied=False, comment=MARK + " home"),
    ]
    plan = dns_records.plan_dns_records(current, [want(type="A", name="h", content="192.0.2.1")], owner_id="home")
    assert [r["id"] for r in plan.unchanged] == ["ours"] and not plan.changed


def test_purge_by_one_site_never_touches_anothers():
    current = [
        have("h1", "CNAME", "time-home.example.com", TARGET, comment=MARK + " home"),
        have("c1", "CNAME", "time-cabin.example.com", "c.cfargotunnel.com", comment=MARK + " cabin"),
        have("m1", "CNAME", "manual.example.com", "elsewhere.example.net"),
    ]
    plan = dns_records.plan_dns_records(current, [], owner_id="home", purge=True)
    assert [r["id"] for r in plan.deletes] == ["h1"]


def test_adopting_with_tag_ownership_replaces_the_other_owners_tag():
    current = [have("r", "CNAME", "t.example.com", TARGET, tags=["managed-by:homelab.mcp_edge.cabin", "team:x"])]
    with pytest.raises(errors.CloudflareOwnershipError, match="its marker names the owner 'cabin'"):
        dns_records.plan_dns_records(current, [want(name="t", content=TARGET)], "tag", "home")
    plan = dns_records.plan_dns_records(current, [want(name="t", content=TARGET)], "tag", "home", adopt=True)
    assert plan.updates[0][1] == {"tags": ["team:x", "managed-by:homelab.mcp_edge.home"]}


def test_without_ownership_the_old_takeover_stays():
    current = [have("r", "CNAME", "time.example.com", "old.example.net")]
    plan = dns_records.plan_dns_records(current, [want(name="time", content=TARGET)], ownership=None)
    assert plan.updates == [(current[0], {"content": TARGET})]


def test_the_marker_and_a_user_comment_must_fit_the_free_plans_100_characters():
    zone = {"name": ZONE, "plan": {"legacy_id": "free", "name": "Free Website"}, "created_on": "2020-01-01"}
    site = "s" * 26  # the longest site id the role allows
    marker = dns.ownership_marker("comment", site)
    room = 100 - len(marker) - len("; ")
    fits = dns_records.plan_dns_records([], [want(name="a", content=TARGET, comment="c" * room)], owner_id=site)
    assert dns.dns_limit_problems(zone, fits.written()) == []
    too_long = dns_records.plan_dns_records(
        [], [want(name="a", content=TARGET, comment="c" * (room + 1))], owner_id=site
    )
    [problem] = dns.dns_limit_problems(zone, too_long.written())
    assert "the comment is 101 characters" in problem and "may have at most %d" % room in problem


# ---------------------------------------------------------------------------- the tunnel secret's tag


def test_tunnel_secret_tag_round_trip():
    plain = base64.b64encode(b"r" * 32).decode()
    marked = tunnel.mark_tunnel_secret(plain, "home")
    assert len(base64.b64decode(marked)) == 48
    assert tunnel.tunnel_secret_owned(marked, "home") and not tunnel.tunnel_secret_owned(marked, "cabin")
    assert not tunnel.tunnel_secret_owned(plain, "home") and not tunnel.tunnel_secret_owned("not base64!", "home")
    assert tunnel.unmarked_tunnel_secret(marked, "home") == plain
    assert tunnel.unmarked_tunnel_secret(plain, "home") == plain


class FakeTunnels:
    """The cfd_tunnel routes the tunnel module uses, in memory."""

    def __init__(self):
        self.tunnels = []
        self.calls = []

    def resolve_account_id(self, zone=None):
        return "acc"

    def paginate(self, path, params=None, per_page=None):
        self.calls.append(("LIST", path))
        return [dict(t) for t in self.tunnels if t["name"] == (params or {}).get("name")]

    def get(self, path, params=None):
        self.calls.append(("GET", path))
        tun = next(t for t in self.tunnels if t["id"] == path.split("/")[4])
        return tunnel.encode_tunnel_token("acc", tun["id"], tun["secret"])

    def post(self, path, json=None, recover=None):
        self.calls.append(("POST", path))
        tun = {"id": "t%d" % (len(self.tunnels) + 1), "name": json["name"], "account_tag": "acc"}
        tun.update(remote_config=json["config_src"] == "cloudflare", secret=json["tunnel_secret"], deleted_at=None)
        self.tunnels.append(tun)
        out = {k: v for k, v in tun.items() if k != "secret"}
        out.update(credentials_file={}, token=tunnel.encode_tunnel_token("acc", tun["id"], tun["secret"]))
        return out

    def patch(self, path, json=None):
        self.calls.append(("PATCH", path))
        tun = next(t for t in self.tunnels if t["id"] == path.split("/")[4])
        tun["secret"] = json["tunnel_secret"]
        return {k: v for k, v in tun.items() if k != "secret"}

    def delete(self, path):
        self.calls.append(("DELETE", path))
        if not path.endswith("/connections"):
            self.tunnels = [t for t in self.tunnels if t["id"] != path.split("/")[4]]

    def writes(self):
        return [c for c in self.calls if c[0] in ("POST", "PATCH", "DELETE")]


class FakeModule:
    def __init__(self):
        self.no_log = True
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


class FakeCF:
    def __init__(self, client, params, check_mode=False):
        self.client = client
        self.check_mode = check_mode
        self.diff_mode = True
        self.module = FakeModule()
        self.params = params


def run_tunnel(client, check_mode=False, **kw):
    params = dict(name="home", state="present", config_src=None, tunnel_secret=None, rotate_secret=False)
    params.update(cleanup_connections=False, zone=None, owner_id="home", adopt=False)
    params.update(kw)
    cf_ = FakeCF(client, params, check_mode)
    return tunnel_mod.TunnelManager(cf_).run(), cf_.module.warnings


def test_a_tunnel_created_for_a_site_carries_its_tag_and_is_its_own_on_the_next_run():
    client = FakeTunnels()
    first, _warnings = run_tunnel(client)
    assert first["changed"] and first["diff"]["after"]["owner_id"] == "home"
    assert tunnel.tunnel_secret_owned(client.tunnels[0]["secret"], "home")
    again, _warnings = run_tunnel(client)
    assert not again["changed"] and again["credentials"] == first["credentials"]
    assert client.writes() == [("POST", "/accounts/acc/cfd_tunnel")]


def test_a_tunnel_not_made_for_the_site_is_refused_adopted_and_rekeyed():
    client = FakeTunnels()
    client.tunnels.append(
        {"id": "t9", "name": "home", "account_tag": "acc", "remote_config": False, "deleted_at": None}
        | {"secret": base64.b64encode(b"h" * 32).decode()}
    )
    with pytest.raises(errors.CloudflareOwnershipError) as err:
        run_tunnel(client)
    assert "tunnel 'home' (id t9) exists but was not created by owner 'home'" in str(err.value)
    assert "set adopt: true" in str(err.value) and client.writes() == []
    checked, _warnings = run_tunnel(client, check_mode=True, adopt=True)
    assert checked["changed"] and checked["adopted"] and client.writes() == []
    adopted, _warnings = run_tunnel(client, adopt=True)
    assert adopted["changed"] and adopted["adopted"] and adopted["secret_rotated"]
    assert tunnel.tunnel_secret_owned(adopted["credentials"]["TunnelSecret"], "home")
    assert adopted["diff"]["before"]["owner_id"] == "(not marked)"
    again, _warnings = run_tunnel(client)  # no adopt needed any more
    assert not again["changed"] and not again["adopted"]


def test_a_given_secret_is_stored_with_the_tag_and_compared_without_it():
    client = FakeTunnels()
    given = base64.b64encode(b"g" * 32).decode()
    first, _warnings = run_tunnel(client, tunnel_secret=given)
    assert tunnel.unmarked_tunnel_secret(first["credentials"]["TunnelSecret"], "home") == given
    again, _warnings = run_tunnel(client, tunnel_secret=given)
    assert not again["changed"]


def test_absent_deletes_only_the_sites_tunnel():
    client = FakeTunnels()
    run_tunnel(client, name="cabin", owner_id="cabin")
    out, warnings = run_tunnel(client, name="cabin", state="absent")
    assert not out["changed"] and client.tunnels and "left alone" in warnings[0]
    out, warnings = run_tunnel(client, name="cabin", state="absent", owner_id="cabin")
    assert out["changed"] and client.tunnels == [] and warnings == []


# ---------------------------------------------------------------------------- Access: the site's tag


class FakeAccess:
    """apps, policies, service_tokens and tags under one account, with the calls recorded."""

    BASE = "/accounts/acc/access/"

    def __init__(self, **data):
        self.data = {k: [] for k in ("apps", "policies", "service_tokens", "tags", "identity_providers")}
        self.data.update(copy.deepcopy(data))
        self.calls = []
        self.ids = itertools.count(1)

    def resolve_account_id(self, zone=None):
        return "acc"

    def _split(self, path):
        parts = path[len(self.BASE) :].split("/")
        return parts[0], (parts[1] if len(parts) > 1 else None)

    def paginate(self, path, params=None, per_page=None):
        self.calls.append(("GET", path[len(self.BASE) :]))
        items = self.data[self._split(path)[0]]
        if params and "name" in params:
            items = [o for o in items if o["name"] == params["name"]]
        return copy.deepcopy(items)

    def get(self, path, params=None):
        self.calls.append(("GET", path[len(self.BASE) :]))
        kind, key = self._split(path)
        found = [o for o in self.data[kind] if o.get("id", o.get("name")) == key.replace("%20", " ")]
        if not found:
            raise errors.CloudflareNotFoundError("not found", status=404)
        return copy.deepcopy(found[0])

    def post(self, path, json=None, recover=None, idempotent=None, params=None):
        self.calls.append(("POST", path[len(self.BASE) :]))
        kind = self._split(path)[0]
        obj = copy.deepcopy(json)
        if kind != "tags":
            obj["id"] = "%s-%d" % (kind, next(self.ids))
        if kind == "apps":
            obj["aud"] = "aud-" + obj["id"]
            obj["policies"] = [{"id": p["id"], "precedence": p["precedence"]} for p in obj.get("policies") or []]
        self.data[kind].append(obj)
        out = copy.deepcopy(obj)
        if kind == "service_tokens":
            out["client_secret"] = "secret"
        return out

    def put(self, path, json=None, **kwargs):
        self.calls.append(("PUT", path[len(self.BASE) :]))
        kind, obj_id = self._split(path)
        obj = next(o for o in self.data[kind] if o["id"] == obj_id)
        keep = {k: obj[k] for k in ("id", "aud", "client_id") if k in obj}
        obj.clear()
        obj.update(copy.deepcopy(json), **keep)
        return copy.deepcopy(obj)

    def delete(self, path, **kwargs):
        self.calls.append(("DELETE", path[len(self.BASE) :]))
        kind, key = self._split(path)
        key = key.replace("%20", " ")
        self.data[kind] = [o for o in self.data[kind] if o.get("id", o.get("name")) != key]

    def writes(self):
        return [c for c in self.calls if c[0] != "GET"]


def config_params(**kw):
    params = dict(service_tokens=[], policies=[], applications=[], purge_applications_prefix="", owner_id="home")
    params.update(kw)
    return params


def app(name, domain, **kw):
    item = dict(access_config.option_defaults(access_config.ITEM_OPTIONS["application"]), name=name, domain=domain)
    item.update(kw)
    return item


def run_config(client, check_mode=False, **kw):
    cf_ = FakeCF(client, config_params(**kw), check_mode)
    return access_config.AccessConfigManager(cf_).run(), cf_.module.warnings


def test_apps_get_the_sites_tag_which_is_created_once_and_dropped_with_the_last_app():
    client = FakeAccess()
    out, _warnings = run_config(client, applications=[app("home: time", "time.example.com")])
    assert client.writes() == [("POST", "tags"), ("POST", "apps")]
    assert client.data["apps"][0]["tags"] == ["mcp_edge home"] and client.data["tags"] == [{"name": "mcp_edge home"}]
    assert out["changes"][0] == {"kind": "tag", "name": "mcp_edge home", "action": "create"}
    client.calls.clear()
    run_config(client, applications=[app("home: time", "time.example.com"), app("home: notes", "notes.example.com")])
    assert client.writes() == [("POST", "apps")]  # the listing shows the tag exists: no request for it
    client.calls.clear()
    out, _warnings = run_config(client, applications=[], purge_applications_prefix="home: ")
    assert sorted(client.writes()) == [
        ("DELETE", "apps/apps-1"),
        ("DELETE", "apps/apps-2"),
        ("DELETE", "tags/mcp_edge%20home"),
    ]
    assert client.data["tags"] == [] and {"kind": "tag", "name": "mcp_edge home", "action": "delete"} in out["changes"]


def test_a_same_name_app_without_the_tag_is_refused_before_any_write_then_adopted():
    client = FakeAccess(apps=[{"id": "x", "name": "home: time", "domain": "time.example.com", "tags": []}])
    token = dict(
        access_config.option_defaults(access_config.ITEM_OPTIONS["service_token"]), name="home: claude-desktop"
    )
    with pytest.raises(errors.CloudflareOwnershipError) as err:
        run_config(client, service_tokens=[token], applications=[app("home: time", "time.example.com")])
    assert "Access application 'home: time' (id x, domain time.example.com) exists but was not created by site" in str(
        err.value
    )
    assert "it lacks the Access tag 'mcp_edge home'; it has no tags" in str(err.value)
    assert client.writes() == []  # not even the token
    run_config(client, check_mode=True, applications=[app("home: time", "time.example.com", adopt=True)])
    assert client.writes() == []
    run_config(client, applications=[app("home: time", "time.example.com", adopt=True)])
    assert client.data["apps"][0]["tags"] == ["mcp_edge home"] and client.data["apps"][0]["id"] == "x"
    out, _warnings = run_config(client, applications=[app("home: time", "time.example.com")])
    assert not out["changed"]


def test_purge_and_absent_leave_other_sites_and_untagged_apps_alone():
    client = FakeAccess(
        apps=[
            {"id": "c", "name": "home: cabin-made", "domain": "c.example.com", "tags": ["mcp_edge cabin"]},
            {"id": "u", "name": "home: untagged", "domain": "u.example.com", "tags": []},
        ]
    )
    out, warnings = run_config(
        client, applications=[app("home: untagged", None, state="absent")], purge_applications_prefix="home: "
    )
    assert not out["changed"] and client.writes() == []
    assert (
        "Access application 'home: untagged' (id u, domain u.example.com) was not created by site 'home'"
        in (warnings[0])
    )


def test_policies_and_tokens_of_release_0_2_are_renamed_when_adopted():
    client = FakeAccess(
        policies=[{"id": "p", "name": "owner", "decision": "allow", "include": [{"email": {"email": "me@x.org"}}]}],
        service_tokens=[{"id": "s", "name": "claude-desktop", "client_id": "c.access", "duration": "8760h"}],
    )
    policy = dict(
        access_config.option_defaults(access_config.ITEM_OPTIONS["policy"]), name="home: owner", former_name="owner"
    )
    policy.update(decision="allow", include=[{"email": "me@x.org"}])
    token = dict(
        access_config.option_defaults(access_config.ITEM_OPTIONS["service_token"]), name="home: claude-desktop"
    )
    token["former_name"] = "claude-desktop"
    # Without adopt: new objects next to the old ones (the names differ, nothing is taken over).
    checked, _warnings = run_config(client, check_mode=True, policies=[policy], service_tokens=[token])
    assert [c["action"] for c in checked["changes"]] == ["create", "create"]
    out, _warnings = run_config(
        client, policies=[dict(policy, adopt=True)], service_tokens=[dict(token, adopt=True, duration="8760h")]
    )
    assert client.writes() == [("PUT", "service_tokens/s"), ("PUT", "policies/p")]
    assert [(t["id"], t["name"]) for t in client.data["service_tokens"]] == [("s", "home: claude-desktop")]
    assert [(p["id"], p["name"]) for p in client.data["policies"]] == [("p", "home: owner")]
    assert "client_secret" not in out["service_tokens"]["home: claude-desktop"]  # the secret clients hold stays


def test_an_owner_id_too_long_for_an_access_tag_is_refused():
    with pytest.raises(errors.CloudflareInputError, match=r"owner_id: must be 1-26 letters"):
        run_config(FakeAccess(), owner_id="x" * 27)
    assert (
        access_application.owner_tag("x" * 26) == "mcp_edge " + "x" * 26
        and len(access_application.owner_tag("x" * 26)) == 35
    )


# ---------------------------------------------------------------------------- the role's filters


SERVICES = [{"name": "time", "kind": "mcp", "port": 8101, "access": ["owner", "mcp-clients"]}]
POLICIES = {
    "owner": {"decision": "allow", "include": [{"email": "me@example.com"}]},
    "mcp-clients": {"decision": "non_identity", "include": [{"service_token": "claude-desktop"}]},
}


def test_edge_access_config_names_policies_and_tokens_with_the_site_prefix():
    services = normalize_services(SERVICES, "example.com")
    config = edge_access_config(
        services, POLICIES, ["claude-desktop"], "home: ", rotate=["claude-desktop"], names_prefix="home: "
    )
    assert config["service_tokens"] == [
        {"name": "home: claude-desktop", "rotate": True, "former_name": "claude-desktop"}
    ]
    by_name = {p["name"]: p for p in config["policies"]}
    assert by_name["home: mcp-clients"]["include"] == [{"service_token": "home: claude-desktop"}]
    assert by_name["home: owner"]["former_name"] == "owner"
    assert config["applications"][0]["policies"] == ["home: owner", "home: mcp-clients"]
    adopted = edge_access_config(services, POLICIES, [], "home: ", names_prefix="home: ", adopt=["applications"])
    assert adopted["applications"][0]["adopt"] is True and "adopt" not in adopted["policies"][0]
    gone = edge_access_config(
        services, POLICIES, [], "home: ", state="absent", names_prefix="home: ", adopt=["policies"]
    )
    assert gone["policies"][0] == {
        "name": "home: mcp-clients",
        "former_name": "mcp-clients",
        "adopt": True,
        "state": "absent",
    }


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"site": "a" * 27}, "cloudflare_edge_site (homelab_site, by default the tunnel name) must be 1-26"),
        ({"site": "has space"}, "must be 1-26 letters"),
        ({"adopt": ["dns", "everything"]}, "cloudflare_edge_adopt must be a list of the kinds to take over"),
        ({"adopt": "dns"}, "cloudflare_edge_adopt must be a list"),
    ],
)
def test_edge_problems_check_the_site_and_the_adopt_list(settings, expected):
    base = {"zone": "example.com", "tunnel_name": "home", "tunnel_mode": "local", "site": "home", "adopt": []}
    problems = edge_problems(SERVICES, "example.com", POLICIES, ["claude-desktop"], dict(base, **settings))
    assert any(expected in p for p in problems), problems
    assert edge_problems(SERVICES, "example.com", POLICIES, ["claude-desktop"], base) == []
