# SPDX-License-Identifier: GPL-3.0-or-later
"""Planning logic of the cloudflare_access_* modules against an in-memory fake client (no network)."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import pytest
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _access_service_token as token_utils
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access import AccessTask
from ansible_collections.homelab.mcp_edge.plugins.module_utils._access_rules import AccessError
from ansible_collections.homelab.mcp_edge.plugins.modules import (
    cloudflare_access_application as app_mod,
)
from ansible_collections.homelab.mcp_edge.plugins.modules import (
    cloudflare_access_group as group_mod,
)
from ansible_collections.homelab.mcp_edge.plugins.modules import (
    cloudflare_access_identity_provider_info as idp_mod,
)
from ansible_collections.homelab.mcp_edge.plugins.modules import (
    cloudflare_access_policy as policy_mod,
)
from ansible_collections.homelab.mcp_edge.plugins.modules import (
    cloudflare_access_service_token as token_mod,
)

ACCOUNT = "a0000000000000000000000000000001"
BASE = "/accounts/%s/access/" % ACCOUNT
IDP_GITHUB = "10000000-0000-4000-8000-000000000002"


class FakeClient:
    """Just enough of CloudflareClient: stores objects per kind, records every call."""

    def __init__(self, data=None):
        self.data = {k: [] for k in ("apps", "policies", "groups", "service_tokens", "identity_providers")}
        self.data["identity_providers"] = [
            {"id": "10000000-0000-4000-8000-000000000001", "name": "One-time PIN", "type": "onetimepin"},
            {"id": IDP_GITHUB, "name": "GitHub", "type": "github", "config": {"client_secret": "x"}},
        ]
        self.data.update(copy.deepcopy(data or {}))
        self.calls = []
        self.ids = itertools.count(1)
        self.lose_create_answer = False
        self.lose_rotate_answer = False
        # Cloudflare's create answer for a service token has no expires_at (ServiceTokenCreateResponse).
        self.create_answer_without_expiry = False

    def resolve_account_id(self, zone=None):
        return ACCOUNT

    def _split(self, path):
        assert path.startswith(BASE), path
        parts = path[len(BASE) :].split("/")
        return parts[0], (parts[1] if len(parts) > 1 else None), (parts[2] if len(parts) > 2 else None)

    def _find(self, kind, obj_id):
        return next(o for o in self.data[kind] if o["id"] == obj_id)

    def get(self, path, params=None, **kwargs):
        self.calls.append(("GET", path, dict(params or {})))
        kind, obj_id = self._split(path)[:2]
        return copy.deepcopy(self._find(kind, obj_id))

    def paginate(self, path, params=None, per_page=None):
        self.calls.append(("GET", path, dict(params or {})))
        kind = self._split(path)[0]
        items = self.data[kind]
        if params and "name" in params:
            items = [o for o in items if o["name"] == params["name"]]
        return copy.deepcopy(items)

    def post(self, path, json=None, recover=None, idempotent=None, params=None):
        self.calls.append(("POST", path, copy.deepcopy(json)))
        kind, obj_id, action = self._split(path)
        if action == "rotate":
            obj = self._find(kind, obj_id)
            if self.lose_rotate_answer:  # rotated, but only the token (no secret) was found again
                return copy.deepcopy(obj)
            return dict(copy.deepcopy(obj), client_secret="rotated-secret-%d" % next(self.ids))
        if action == "refresh":
            obj = self._find(kind, obj_id)
            obj["expires_at"] = "2099-01-01T00:00:00Z"
            return copy.deepcopy(obj)
        obj = dict(copy.deepcopy(json), id="id-%d" % next(self.ids))
        if kind == "apps":
            obj["aud"] = "aud-" + obj["id"]
        if kind == "policies":
            obj["app_count"] = 0
        if kind == "service_tokens":
            obj.update(
                client_id="cid.access", expires_at="2030-01-01T00:00:00Z", duration=json.get("duration", "8760h")
            )
        self.data[kind].append(obj)
        answer = copy.deepcopy(obj)
        if kind == "service_tokens":
            answer["client_secret"] = "created-secret"
            if self.create_answer_without_expiry:
                del answer["expires_at"]
        if self.lose_create_answer:
            assert recover is not None
            return recover()
        return answer

    def put(self, path, json=None, **kwargs):
        self.calls.append(("PUT", path, copy.deepcopy(json)))
        kind, obj_id = self._split(path)[:2]
        obj = self._find(kind, obj_id)
        keep = {k: obj[k] for k in ("id", "aud", "client_id", "expires_at") if k in obj}
        obj.clear()
        obj.update(copy.deepcopy(json), **keep)
        return copy.deepcopy(obj)

    def delete(self, path, **kwargs):
        self.calls.append(("DELETE", path, None))
        kind, obj_id = self._split(path)[:2]
        self.data[kind].remove(self._find(kind, obj_id))
        return {"id": obj_id}

    def writes(self):
        return [c for c in self.calls if c[0] != "GET"]

    def reads(self):
        return [c[1][len(BASE) :] for c in self.calls if c[0] == "GET"]


class FakeModule:
    def __init__(self, no_log):
        self.no_log = no_log
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


class FakeCf:
    def __init__(self, client, params, check_mode=False, diff=True, no_log=False):
        self.client = client
        self.params = params
        self.check_mode = check_mode
        self.diff_mode = diff
        self.module = FakeModule(no_log)


def run(manager_cls, client, params, **kwargs):
    cf = FakeCf(client, params, **kwargs)
    return manager_cls(cf).run()


def policy_params(**kw):
    base = dict(
        name="mcp-clients",
        state="present",
        decision=None,
        include=None,
        require=None,
        exclude=None,
        session_duration=None,
        approval_required=None,
        purpose_justification_required=None,
        purpose_justification_prompt=None,
    )
    base.update(kw)
    return base


TOKENS = [
    {"id": "tok-1", "name": "claude-desktop", "client_id": "a.access", "expires_at": "2030-01-01T00:00:00Z"},
    {"id": "tok-2", "name": "ci", "client_id": "b.access", "expires_at": "2030-01-01T00:00:00Z"},
]


# ------------------------------------------------------------------------------------- policy


def test_policy_create_translates_and_reads_each_kind_once():
    client = FakeClient({"service_tokens": TOKENS})
    res = run(
        policy_mod.PolicyManager,
        client,
        policy_params(
            decision="non_identity",
            include=[{"service_token": "claude-desktop"}, {"service_token": "ci"}],
            exclude=[{"ip": "192.0.2.1"}],
        ),
    )
    assert res["changed"] and res["id"]
    assert client.reads() == ["policies", "service_tokens"]
    [(method, path, body)] = client.writes()
    assert (method, path) == ("POST", BASE + "policies")
    assert body == {
        "name": "mcp-clients",
        "decision": "non_identity",
        "include": [{"service_token": {"token_id": "tok-1"}}, {"service_token": {"token_id": "tok-2"}}],
        "exclude": [{"ip": {"ip": "192.0.2.1/32"}}],
    }
    assert res["diff"]["before"] == {} and res["diff"]["after"]["decision"] == "non_identity"


def test_policy_check_mode_writes_nothing():
    client = FakeClient()
    res = run(
        policy_mod.PolicyManager,
        client,
        policy_params(decision="allow", include=[{"everyone": True}]),
        check_mode=True,
    )
    assert res["changed"] and res["id"] is None
    assert client.writes() == []


def test_policy_noop_despite_api_normalisation():
    existing = {
        "id": "p1",
        "name": "mcp-clients",
        "decision": "allow",
        "include": [{"email": {"email": "me@example.com"}}, {"ip": {"ip": "192.0.2.1"}}],
        "require": [],
        "exclude": [],
        "session_duration": "24h",
        "app_count": 1,
        "reusable": True,
    }
    client = FakeClient({"policies": [existing]})
    res = run(
        policy_mod.PolicyManager,
        client,
        policy_params(
            decision="allow",
            include=[{"email": "Me@Example.com"}, {"ip": "192.0.2.1/32"}],
            require=[],
            session_duration="1440m",
        ),
    )
    assert not res["changed"] and "diff" not in res
    assert client.writes() == [] and client.reads() == ["policies"]


def test_policy_update_keeps_what_is_left_out():
    existing = {
        "id": "p1",
        "name": "mcp-clients",
        "decision": "allow",
        "include": [{"everyone": {}}],
        "require": [{"geo": {"country_code": "DE"}}],
        "exclude": [],
        "session_duration": "12h",
        "approval_required": False,
        "app_count": 0,
    }
    client = FakeClient({"policies": [existing]})
    res = run(policy_mod.PolicyManager, client, policy_params(decision="deny"))
    [(method, path, body)] = client.writes()
    assert (method, path) == ("PUT", BASE + "policies/p1")
    assert body["decision"] == "deny"
    assert body["require"] == [{"geo": {"country_code": "DE"}}] and body["session_duration"] == "12h"
    assert res["diff"]["before"]["decision"] == "allow" and res["diff"]["after"]["decision"] == "deny"


def test_policy_create_needs_decision_and_include():
    with pytest.raises(AccessError, match=r"give decision \(one of allow, deny, non_identity, bypass\) and include"):
        run(policy_mod.PolicyManager, FakeClient(), policy_params())


def test_policy_unknown_token_names_the_rule_and_existing_names():
    client = FakeClient({"service_tokens": TOKENS})
    with pytest.raises(
        AccessError, match=r"include\[0\]\.service_token: no service token named 'nope'; existing: 'ci'"
    ):
        run(policy_mod.PolicyManager, client, policy_params(decision="allow", include=[{"service_token": "nope"}]))
    assert client.writes() == []


def test_policy_absent_refuses_while_linked():
    pol = {"id": "p1", "name": "owner", "decision": "allow", "include": [{"everyone": {}}], "app_count": 1}
    app = {"id": "a1", "name": "time", "policies": [{"id": "p1", "precedence": 1}]}
    client = FakeClient({"policies": [pol], "apps": [app]})
    with pytest.raises(AccessError, match=r"policy 'owner' is still linked to application\(s\) 'time'"):
        run(policy_mod.PolicyManager, client, policy_params(name="owner", state="absent"))
    assert client.writes() == []


def test_check_mode_is_lenient_about_what_earlier_tasks_would_do():
    # the token and the unlinking would come from earlier tasks that only pretended in check mode
    client = FakeClient()
    cf = FakeCf(client, policy_params(decision="allow", include=[{"service_token": "new"}]), check_mode=True)
    res = policy_mod.PolicyManager(cf).run()
    assert res["changed"] and client.writes() == []
    assert "check mode assumes an earlier task creates it" in cf.module.warnings[0]
    pol = {"id": "p1", "name": "owner", "decision": "allow", "include": [{"everyone": {}}], "app_count": 1}
    client = FakeClient({"policies": [pol], "apps": [{"id": "a1", "name": "time", "policies": [{"id": "p1"}]}]})
    cf = FakeCf(client, policy_params(name="owner", state="absent"), check_mode=True)
    assert policy_mod.PolicyManager(cf).run()["changed"]
    assert "still linked to application(s) 'time'" in cf.module.warnings[0] and client.writes() == []


def test_policy_absent():
    pol = {"id": "p1", "name": "owner", "decision": "allow", "include": [{"everyone": {}}], "app_count": 0}
    client = FakeClient({"policies": [pol]})
    res = run(policy_mod.PolicyManager, client, policy_params(name="owner", state="absent"))
    assert res["changed"] and client.writes() == [("DELETE", BASE + "policies/p1", None)]
    assert client.reads() == ["policies"]  # app_count 0: no need to read the applications
    res = run(policy_mod.PolicyManager, client, policy_params(name="owner", state="absent"))
    assert not res["changed"]


# ------------------------------------------------------------------------------------- group


def test_group_create_update_noop():
    client = FakeClient()
    params = dict(name="admins", state="present", include=[{"email": ["a@example.com"]}], require=None, exclude=None)
    assert run(group_mod.GroupManager, client, params)["changed"]
    assert not run(group_mod.GroupManager, client, params)["changed"]
    res = run(group_mod.GroupManager, client, dict(params, include=None, exclude=[{"geo": "kp"}]))
    assert res["changed"]
    body = client.writes()[-1][2]
    assert body["include"] == [{"email": {"email": "a@example.com"}}] and body["exclude"] == [
        {"geo": {"country_code": "KP"}}
    ]
    with pytest.raises(AccessError, match="include: group 'new' does not exist yet"):
        run(group_mod.GroupManager, client, dict(params, name="new", include=None))


# ------------------------------------------------------------------------------------- application


def app_params(**kw):
    base = dict(
        name="time",
        state="present",
        domain=None,
        destinations=None,
        session_duration=None,
        allowed_idps=None,
        auto_redirect_to_identity=None,
        app_launcher_visible=None,
        policies=None,
        tags=None,
        custom_deny_message=None,
    )
    base.update(kw)
    return base


POLICIES = [{"id": "p-owner", "name": "owner"}, {"id": "p-mcp", "name": "mcp-clients"}]


def test_application_create_links_policies_in_order():
    client = FakeClient({"policies": POLICIES})
    res = run(
        app_mod.ApplicationManager,
        client,
        app_params(domain="time.example.com", policies=["mcp-clients", "p-owner"], allowed_idps=["GitHub"]),
    )
    [(method, _path, body)] = client.writes()
    assert method == "POST"
    assert body["type"] == "self_hosted" and body["allowed_idps"] == [IDP_GITHUB]
    assert body["policies"] == [{"id": "p-mcp", "precedence": 1}, {"id": "p-owner", "precedence": 2}]
    assert res["aud"] and res["id"]
    assert sorted(client.reads()) == ["apps", "identity_providers", "policies"]


def existing_app(**kw):
    app = {
        "id": "app-1",
        "aud": "aud-1",
        "name": "time",
        "type": "self_hosted",
        "domain": "time.example.com",
        "destinations": [{"type": "public", "uri": "time.example.com"}],
        "session_duration": "24h",
        "allowed_idps": ["10000000-0000-4000-8000-000000000001", IDP_GITHUB],
        "tags": ["b", "a"],
        "custom_deny_message": "",
        "enable_binding_cookie": False,
        "policies": [
            {"id": "p-owner", "precedence": 1, "name": "owner", "decision": "allow"},
            {"id": "p-mcp", "precedence": 2, "name": "mcp-clients"},
        ],
    }
    app.update(kw)
    return app


def test_application_noop_sets_and_ids():
    client = FakeClient({"policies": POLICIES, "apps": [existing_app()]})
    res = run(
        app_mod.ApplicationManager,
        client,
        app_params(
            domain="Time.Example.com",
            policies=["p-owner", "p-mcp"],
            allowed_idps=["GitHub", "One-time PIN"],
            tags=["a", "b"],
            session_duration="24h",
        ),
    )
    assert not res["changed"] and client.writes() == []
    assert res["aud"] == "aud-1" and res["application"]["policies"] == ["p-owner", "p-mcp"]


def test_application_reorder_and_domain_move():
    client = FakeClient({"policies": POLICIES, "apps": [existing_app()]})
    res = run(
        app_mod.ApplicationManager,
        client,
        app_params(domain="clock.example.com", policies=["mcp-clients", "owner"]),
    )
    assert res["changed"]
    [(method, path, body)] = client.writes()
    assert (method, path) == ("PUT", BASE + "apps/app-1")
    assert body["policies"] == [{"id": "p-mcp", "precedence": 1}, {"id": "p-owner", "precedence": 2}]
    assert body["destinations"] == [{"type": "public", "uri": "clock.example.com"}]
    assert body["tags"] == ["b", "a"] and body["enable_binding_cookie"] is False  # carried over
    assert res["diff"]["before"]["policies"] == ["p-owner", "p-mcp"]


def test_application_update_keeps_linked_policies_when_left_out():
    client = FakeClient({"policies": POLICIES, "apps": [existing_app()]})
    res = run(app_mod.ApplicationManager, client, app_params(custom_deny_message="no"))
    [(_method, _path, body)] = client.writes()
    assert body["policies"] == [{"id": "p-owner", "precedence": 1}, {"id": "p-mcp", "precedence": 2}]
    assert body["custom_deny_message"] == "no" and body["domain"] == "time.example.com"
    assert res["application"]["policies"] == ["p-owner", "p-mcp"]
    assert client.reads() == ["apps"]  # no names to resolve: nothing else read


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            dict(policies=["owner", "nope"]),
            r"policies\[1\]: no reusable Access policy named 'nope'; existing: 'mcp-clients', 'owner'",
        ),
        (dict(policies=["owner", "p-owner"]), r"policies\[1\]: 'p-owner' links the same policy as policies\[0\]"),
        (dict(allowed_idps=["Okta"]), r"allowed_idps\[0\]: no identity provider named 'Okta'; existing: 'GitHub'"),
        (dict(domain="https://time.example.com"), "without the scheme"),
        (dict(session_duration="a day"), "session_duration: 'a day' is not a duration"),
        (
            dict(destinations=[{"type": "vpn"}]),
            r"destinations\[0\]\.type: 'vpn' is not valid \(expected public or private\)",
        ),
        (dict(policies=["owner"]), "domain: application 'time' does not exist yet; give domain"),
    ],
)
def test_application_bad_input(params, message):
    client = FakeClient({"policies": POLICIES})
    with pytest.raises(AccessError, match=message):
        run(app_mod.ApplicationManager, client, app_params(**params))
    assert client.writes() == []


def test_application_absent():
    client = FakeClient({"apps": [existing_app()]})
    res = run(app_mod.ApplicationManager, client, app_params(state="absent"), check_mode=True)
    assert res["changed"] and client.writes() == [] and res["id"] is None
    res = run(app_mod.ApplicationManager, client, app_params(state="absent"))
    assert client.writes() == [("DELETE", BASE + "apps/app-1", None)]
    assert client.reads() == ["apps", "apps"]


# ------------------------------------------------------------------------------------- service token


def token_params(**kw):
    base = dict(
        name="claude-desktop",
        state="present",
        duration=None,
        rotate=False,
        refresh=False,
        refresh_if_expires_within=None,
    )
    base.update(kw)
    return base


def test_token_create_needs_no_log():
    client = FakeClient()
    with pytest.raises(AccessError, match="set no_log: true on the task"):
        run(token_mod.ServiceTokenManager, client, token_params())
    assert client.writes() == []
    with pytest.raises(AccessError, match="no_log"):
        run(token_mod.ServiceTokenManager, client, token_params(), check_mode=True)


def test_token_secret_only_on_create_and_rotate():
    client = FakeClient()
    res = run(token_mod.ServiceTokenManager, client, token_params(duration="720h"), no_log=True)
    assert res["changed"] and res["client_secret"] == "created-secret" and res["client_id"] == "cid.access"
    assert "client_secret" not in res["service_token"]
    assert res["diff"]["after"]["client_secret"] == "(new secret)"
    res = run(token_mod.ServiceTokenManager, client, token_params(duration="720h"))
    assert not res["changed"] and "client_secret" not in res and res["client_id"] == "cid.access"
    res = run(token_mod.ServiceTokenManager, client, token_params(rotate=True), no_log=True)
    assert res["changed"] and res["rotated"] and res["client_secret"].startswith("rotated-secret")
    with pytest.raises(AccessError, match="rotating service token 'claude-desktop'"):
        run(token_mod.ServiceTokenManager, client, token_params(rotate=True))
    n = len(client.writes())
    res = run(token_mod.ServiceTokenManager, client, token_params(rotate=True), no_log=True, check_mode=True)
    assert res["changed"] and "client_secret" not in res and len(client.writes()) == n


def test_token_create_reads_the_expiry_the_create_answer_lacks():
    # Without it, a first run reports no expiry and the second one does: not idempotent downstream.
    client = FakeClient()
    client.create_answer_without_expiry = True
    res = run(token_mod.ServiceTokenManager, client, token_params(duration="720h"), no_log=True)
    assert res["changed"] and res["expires_at"] == "2030-01-01T00:00:00Z"
    assert res["service_token"]["expires_at"] == "2030-01-01T00:00:00Z"
    token_id = res["id"]
    assert [c[:2] for c in client.calls if c[0] == "GET" and c[1].endswith(token_id)] == [
        ("GET", BASE + "service_tokens/" + token_id)
    ]
    # An answer that has it costs no read.
    client = FakeClient()
    res = run(token_mod.ServiceTokenManager, client, token_params(name="other"), no_log=True)
    assert res["expires_at"] == "2030-01-01T00:00:00Z"
    assert not [c for c in client.calls if c[0] == "GET" and c[1].endswith(res["id"])]


def test_token_create_answer_lost_rotates_for_a_secret():
    client = FakeClient()
    client.lose_create_answer = True
    res = run(token_mod.ServiceTokenManager, client, token_params(), no_log=True)
    assert res["client_secret"].startswith("rotated-secret")
    assert [c[1].rsplit("/", 1)[-1] for c in client.writes()] == ["service_tokens", "rotate"]
    assert len(client.data["service_tokens"]) == 1


def test_token_create_and_rotation_answers_lost_is_an_error_naming_the_way_out():
    client = FakeClient()
    client.lose_create_answer = client.lose_rotate_answer = True
    with pytest.raises(AccessError, match=r"no one has its secret\. Rotate it") as err:
        run(token_mod.ServiceTokenManager, client, token_params(), no_log=True)
    assert "cloudflare_edge_rotate_service_tokens" in str(err.value)
    assert len(client.data["service_tokens"]) == 1


def test_token_rotation_keeps_the_expiry():
    tok = dict(TOKENS[0], expires_at="2030-01-01T00:00:00Z")
    client = FakeClient({"service_tokens": [tok]})
    res = run(token_mod.ServiceTokenManager, client, token_params(rotate=True), no_log=True)
    assert res["rotated"] and res["expires_at"] == "2030-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "rules",
    [
        {"include": [{"email": "me@example.com"}]},
        {"include": [{"any_valid_service_token": True}], "require": [{"login_method": IDP_GITHUB}]},
    ],
)
def test_non_identity_policy_refuses_identity_rules_before_any_write(rules):
    client = FakeClient()
    params = policy_params(decision="non_identity", **rules)
    with pytest.raises(AccessError, match=r"non_identity \(Service Auth\) policy admits without a login"):
        run(policy_mod.PolicyManager, client, params)
    assert client.writes() == []


def test_token_refresh_window_and_duration_update():
    tok = dict(TOKENS[0], duration="8760h", expires_at="2030-01-01T00:00:00Z")
    client = FakeClient({"service_tokens": [tok]})
    far = dict(refresh_if_expires_within="30d")
    cf = FakeCf(client, token_params(**far))
    task = AccessTask(cf, now=lambda: 1.0e9)  # 2001: expiry is far away
    res = token_mod.ServiceTokenManager(cf, task).run()
    assert not res["changed"] and client.writes() == []
    task = AccessTask(cf, now=lambda: 1893456000.0 - 86400)  # one day before expiry
    res = token_mod.ServiceTokenManager(cf, task).run()
    assert res["changed"] and res["refreshed"] and res["expires_at"] == "2099-01-01T00:00:00Z"
    assert client.writes()[-1][1].endswith("/refresh")
    res = run(token_mod.ServiceTokenManager, client, token_params(duration="forever"))
    assert res["changed"] and client.writes()[-1] == (
        "PUT",
        BASE + "service_tokens/tok-1",
        {"name": "claude-desktop", "duration": "forever"},
    )
    with pytest.raises(AccessError, match="refresh_if_expires_within: 'soon' is not a duration"):
        run(token_mod.ServiceTokenManager, client, token_params(refresh_if_expires_within="soon"))
    with pytest.raises(AccessError, match=r"duration: '1y' is not a duration .*'forever'"):
        run(token_mod.ServiceTokenManager, client, token_params(duration="1y"))


def test_token_absent():
    client = FakeClient({"service_tokens": TOKENS})
    res = run(token_mod.ServiceTokenManager, client, token_params(state="absent"))
    assert res["changed"] and res["id"] is None and client.writes() == [("DELETE", BASE + "service_tokens/tok-1", None)]
    assert not run(token_mod.ServiceTokenManager, client, token_params(state="absent"))["changed"]


# ------------------------------------------------------------------------------------- identity providers


def test_idp_info_filters_and_hides_config():
    client = FakeClient()
    res = idp_mod.IdentityProviderInfoManager(FakeCf(client, {"name": None, "type": None})).run()
    assert [i["name"] for i in res["identity_providers"]] == ["One-time PIN", "GitHub"]
    assert all(set(i) == {"id", "name", "type"} for i in res["identity_providers"])
    res = idp_mod.IdentityProviderInfoManager(FakeCf(client, {"name": None, "type": "github"})).run()
    assert res["identity_providers"] == [{"id": IDP_GITHUB, "name": "GitHub", "type": "github"}]
    assert (
        idp_mod.IdentityProviderInfoManager(FakeCf(client, {"name": "x", "type": None})).run()["identity_providers"]
        == []
    )


# ------------------------------------------------------------------------------------- the manager contract


def test_every_access_manager_reports_an_action_and_a_diff_only_when_it_changes():
    client = FakeClient({"service_tokens": TOKENS})
    params = dict(name="admins", state="present", include=[{"email": "a@example.com"}], require=None, exclude=None)
    created = group_mod.GroupManager(FakeCf(client, params)).apply()
    assert (
        created.action == "create"
        and created.before == {}
        and created.after["include"] == [{"email": {"email": "a@example.com"}}]
    )
    again = group_mod.GroupManager(FakeCf(client, params)).apply()
    assert again.action == "none" and again.before is None and again.after is None
    assert again.fields["group"]["name"] == "admins"
    assert "diff" not in run(group_mod.GroupManager, client, params)
    shown = run(group_mod.GroupManager, client, dict(params, exclude=[{"geo": "KP"}]))
    assert shown["changed"] and "exclude" not in shown["diff"]["before"]
    assert shown["diff"]["after"]["exclude"] == [{"geo": {"country_code": "KP"}}]
    hidden = run(group_mod.GroupManager, client, dict(params, exclude=[]), diff=False)
    assert hidden["changed"] and "diff" not in hidden
    gone = group_mod.GroupManager(FakeCf(client, dict(params, state="absent"))).apply()
    assert gone.action == "delete" and gone.after == {} and gone.fields == {"id": None, "group": gone.before}


def test_each_access_module_is_documentation_an_argument_spec_and_one_call():
    modules = Path(policy_mod.__file__).parent
    for path in sorted(modules.glob("cloudflare_access_*.py")):
        text = path.read_text(encoding="utf-8")
        code = text.split('\nRETURN = r"""\n', 1)[1].split('\n"""\n', 1)[1]
        lines = [line for line in code.splitlines() if line.strip()]
        assert len(lines) < 20, (path.name, len(lines))
        assert "class " not in code and ").run(" in code, path.name


def test_parse_timestamp():
    assert token_utils.parse_timestamp("2026-01-01T00:00:00Z") == 1767225600.0
    assert token_utils.parse_timestamp("2026-01-01T01:00:00.123+01:00") == 1767225600.0
    assert token_utils.parse_timestamp("2026-01-01 00:00:00-0130") == 1767225600.0 + 5400
    for bad in ("2026-13-01T00:00:00Z", "yesterday", None, 5):
        assert token_utils.parse_timestamp(bad) is None
