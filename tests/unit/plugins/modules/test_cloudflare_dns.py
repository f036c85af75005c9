# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""DNS record validation and the set planner behind cloudflare_dns_records (pure functions, no network)."""

from __future__ import annotations

import pytest
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _dns as dns
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _dns_records as dns_records
from ansible_collections.homelab.mcp_edge.plugins.module_utils import _errors as errors
from ansible_collections.homelab.mcp_edge.plugins.modules import cloudflare_dns_record as record_mod

ZONE = "example.com"
MARK = "managed-by: homelab.mcp_edge"


def want(**kw):
    kw.setdefault("type", "A")
    rec = dns.validate_record(kw, ZONE, require_value=kw.get("state", "present") == "present")
    rec["state"] = kw.get("state", "present")
    return rec


def have(rid, rtype, name, content=None, **kw):
    rec = {"id": rid, "type": rtype, "name": name, "content": content, "ttl": 1, "proxied": False}
    rec.update({"comment": None, "tags": []})
    rec.update(kw)
    return rec


# ---------------------------------------------------------------------------- validation


def test_names_are_made_fqdn():
    assert want(name="@", content="192.0.2.1")["name"] == "example.com"
    assert want(name="www", content="192.0.2.1")["name"] == "www.example.com"
    assert want(name="WWW.Example.com", content="192.0.2.1")["name"] == "www.example.com"
    assert want(name="*.lab", content="192.0.2.1")["name"] == "*.lab.example.com"
    assert want(name="www.example.com.", content="192.0.2.1")["name"] == "www.example.com"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "A", "name": "x", "content": "::1"}, "records[0].content: must be an IPv4 address"),
        ({"type": "AAAA", "name": "x", "content": "1.2.3.4"}, "records[0].content: must be an IPv6 address"),
        ({"type": "A", "name": "x", "content": "192.0.2.1", "ttl": 30}, "records[0].ttl: must be 1 (automatic)"),
        ({"type": "TXT", "name": "x", "content": "t", "proxied": True}, "records[0].proxied: only A, AAAA"),
        ({"type": "A", "name": "a.*", "content": "192.0.2.1"}, "records[0].name: a wildcard"),
        (
            {"type": "A", "name": "x.example.org.", "content": "192.0.2.1"},
            "records[0].name: 'x.example.org.' is outside",
        ),
        ({"type": "SRV", "name": "_s._tcp"}, "records[0].data: is required for SRV records"),
        ({"type": "SRV", "name": "_s._tcp", "data": {"priority": 1, "port": 1}}, "missing key(s) weight, target"),
        ({"type": "CAA", "name": "@", "data": {"flags": 0, "tag": "nope", "value": "x"}}, "data.tag: CAA tag"),
        ({"type": "CAA", "name": "@", "data": {"flags": 0, "tag": "issue", "value": "x", "z": 1}}, "unknown key(s) z"),
        ({"type": "A", "name": "x", "data": {"a": 1}}, "records[0].data: only SRV, CAA"),
        ({"type": "A", "name": "x", "content": "192.0.2.1", "priority": 1}, "records[0].priority: applies to MX"),
        ({"type": "A", "name": "x", "content": "192.0.2.1", "tags": ["nocolon"]}, "records[0].tags: each tag"),
        ({"type": "SPF", "name": "x", "content": "v"}, "records[0].type: must be one of A, AAAA"),
        ({"type": "A", "name": ""}, "records[0].name: is required"),
        ({"type": "HTTPS", "name": "@"}, "records[0].data: is required for HTTPS records, with keys priority, target"),
        ({"type": "SVCB", "name": "_dns", "content": "1 . alpn=h2"}, "records[0].content: SVCB records take data"),
        ({"type": "HTTPS", "name": "@", "data": {"priority": 1}}, "records[0].data: missing key(s) target for HTTPS"),
        ({"type": "SVCB", "name": "_dns", "data": {"target": "a.b"}}, "records[0].data: missing key(s) priority"),
        (
            {"type": "HTTPS", "name": "@", "data": {"priority": 1, "target": ".", "port": 443}},
            "records[0].data: unknown key(s) port for HTTPS; valid: priority, target, value",
        ),
        (
            {"type": "HTTPS", "name": "@", "priority": 1, "data": {"priority": 1, "target": "."}},
            "records[0].priority: applies to MX records only; SRV, HTTPS and SVCB take it inside data",
        ),
    ],
)
def test_validation_names_the_option(spec, message):
    with pytest.raises(errors.CloudflareInputError) as info:
        dns.validate_record(spec, ZONE, where="records[0].")
    assert message in str(info.value)


def test_identity_normalisation():
    assert dns.record_identity({"type": "AAAA", "content": "2001:DB8:0::1"}) == "2001:db8::1"
    assert dns.record_identity({"type": "CNAME", "content": "Target.Example.NET."}) == "target.example.net"
    assert dns.record_identity({"type": "TXT", "content": '"v=spf1 -all"'}) == "v=spf1 -all"
    srv = {"type": "SRV", "data": {"priority": "1", "weight": 2, "port": "5060", "target": "Sip.Example.com."}}
    assert dns.record_identity(srv) == ("sip.example.com", 5060)


def test_https_svcb_validation_and_identity():
    https = want(type="HTTPS", name="@", data={"priority": "1", "target": "CDN.Example.NET.", "value": ' alpn="h2" '})
    assert https["name"] == "example.com"
    assert https["data"] == {"priority": 1, "target": "cdn.example.net", "value": 'alpn="h2"'}
    # value is optional; "." (the owner name itself) stays "."
    svcb = want(type="SVCB", name="_dns", data={"priority": 0, "target": "."})
    assert svcb["name"] == "_dns.example.com" and svcb["data"] == {"priority": 0, "target": "."}
    # priority and target identify the record, the value does not
    assert dns.record_identity(https) == (1, "cdn.example.net")
    assert dns.record_identity(svcb) == (0, ".")
    api = {"type": "HTTPS", "data": {"priority": 1, "target": "cdn.example.net", "value": 'alpn="h3"'}}
    assert dns.record_identity(api) == dns.record_identity(https)
    assert dns.record_identity({"type": "HTTPS", "data": {"priority": 2, "target": "cdn.example.net"}}) == (
        2,
        "cdn.example.net",
    )
    assert dns.record_create_body(https) == {
        "type": "HTTPS",
        "name": "example.com",
        "data": {"priority": 1, "target": "cdn.example.net", "value": 'alpn="h2"'},
        "ttl": 1,
    }


# ---------------------------------------------------------------------------- record_changes


def test_changes_leave_omitted_options_alone():
    cur = have("r1", "A", "x.example.com", "192.0.2.1", ttl=300, proxied=True, comment="keep", tags=["a:b"])
    assert dns.record_changes(cur, want(name="x", content="192.0.2.1")) == {}
    assert dns.record_changes(cur, want(name="x", content="192.0.2.1", ttl=600)) == {}  # proxied: ttl is automatic
    assert dns.record_changes(cur, want(name="x", content="192.0.2.1", proxied=False, ttl=600)) == {
        "proxied": False,
        "ttl": 600,
    }
    assert dns.record_changes(cur, want(name="x", content="192.0.2.1", comment="")) == {"comment": ""}
    assert dns.record_changes(cur, want(name="x", content="192.0.2.1", tags=["a:b"])) == {}


def test_data_changes_compare_given_keys():
    cur = have(
        "r", "SRV", "_s._tcp.example.com", None, data={"priority": 1, "weight": 2, "port": 5060, "target": "a.b"}
    )
    same = want(type="SRV", name="_s._tcp", data={"priority": 1, "weight": 2, "port": 5060, "target": "A.B."})
    assert dns.record_changes(cur, same) == {}
    other = want(type="SRV", name="_s._tcp", data={"priority": 5, "weight": 2, "port": 5060, "target": "a.b"})
    assert dns.record_changes(cur, other) == {"data": {"priority": 5, "weight": 2, "port": 5060, "target": "a.b"}}


def test_https_svcb_changes_compare_given_keys():
    cur = have("h", "HTTPS", "example.com", '1 . alpn="h2"', data={"priority": 1, "target": ".", "value": 'alpn="h2"'})
    assert (
        dns.record_changes(cur, want(type="HTTPS", name="@", data={"priority": 1, "target": ".", "value": 'alpn="h2"'}))
        == {}
    )
    # value left out: only priority and target are compared
    assert dns.record_changes(cur, want(type="HTTPS", name="@", data={"priority": 1, "target": "."})) == {}
    new = want(type="HTTPS", name="@", data={"priority": 1, "target": ".", "value": 'alpn="h3,h2"'}, ttl=300)
    assert dns.record_changes(cur, new) == {
        "data": {"priority": 1, "target": ".", "value": 'alpn="h3,h2"'},
        "ttl": 300,
    }
    svcb = have("s", "SVCB", "_dns.example.com", None, data={"priority": 1, "target": "dns.example.net", "value": ""})
    same = want(type="SVCB", name="_dns", data={"priority": 1, "target": "DNS.example.net.", "value": ""})
    assert dns.record_changes(svcb, same) == {}


# ---------------------------------------------------------------------------- the planner


def test_create_from_empty_and_chunking():
    desired = [want(name="h%d" % i, content="192.0.2.%d" % i) for i in range(5)]
    plan = dns_records.plan_dns_records([], desired)
    assert plan.counts() == {"created": 5, "updated": 0, "deleted": 0, "unchanged": 0}
    assert all(b["comment"] == MARK and b["ttl"] == 1 for b in plan.creates)
    batches = plan.batches(2)
    assert [len(b["posts"]) for b in batches] == [2, 2, 1]


def test_noop_when_everything_matches():
    current = [have("r1", "A", "h.example.com", "192.0.2.1", comment=MARK)]
    plan = dns_records.plan_dns_records(current, [want(name="h", content="192.0.2.1")])
    assert not plan.changed and plan.counts()["unchanged"] == 1 and plan.batches() == []


def test_changed_address_updates_in_place():
    current = [have("r1", "A", "h.example.com", "192.0.2.1", comment="mine; " + MARK, ttl=300)]
    plan = dns_records.plan_dns_records(current, [want(name="h", content="192.0.2.9")])
    assert plan.creates == [] and len(plan.updates) == 1
    cur, patch = plan.updates[0]
    assert cur["id"] == "r1" and patch == {"content": "192.0.2.9"}


def test_an_unmarked_record_is_updated_in_place_only_when_adopted():
    current = [have("r1", "A", "h.example.com", "192.0.2.1", comment="mine", ttl=300)]
    with pytest.raises(errors.CloudflareOwnershipError, match=r"A h\.example\.com \(id r1\): it carries no ownership"):
        dns_records.plan_dns_records(current, [want(name="h", content="192.0.2.9")])
    plan = dns_records.plan_dns_records(current, [want(name="h", content="192.0.2.9")], adopt=True)
    assert plan.creates == [] and len(plan.updates) == 1
    cur, patch = plan.updates[0]
    assert cur["id"] == "r1" and patch == {"content": "192.0.2.9", "comment": "mine; " + MARK}
    assert plan.operations() == [("patches", {"id": "r1", "content": "192.0.2.9", "comment": "mine; " + MARK})]


def test_https_svcb_plan_updates_in_place_or_adds():
    data = {"priority": 1, "target": ".", "value": 'alpn="h2"'}
    svcb = have(
        "s1", "SVCB", "_dns.example.com", "1 dns.example.net", data={"priority": 1, "target": "dns.example.net"}
    )
    current = [have("h1", "HTTPS", "example.com", '1 . alpn="h2"', data=data, comment=MARK), dict(svcb, comment=MARK)]
    desired = [
        want(type="HTTPS", name="@", data={**data, "value": 'alpn="h3"'}),
        want(type="SVCB", name="_dns", data={"priority": 1, "target": "dns.example.net"}),
    ]
    plan = dns_records.plan_dns_records(current, desired)
    assert plan.counts() == {"created": 0, "updated": 1, "deleted": 0, "unchanged": 1}
    assert plan.operations() == [
        ("patches", {"id": "h1", "data": {"priority": 1, "target": ".", "value": 'alpn="h3"'}})
    ]
    # Another priority/target at a name with an unowned SVCB record is a second record.
    plan = dns_records.plan_dns_records(
        [svcb], [want(type="SVCB", name="_dns", data={"priority": 2, "target": "dns2.example.net"})]
    )
    assert plan.updates == [] and plan.deletes == []
    assert plan.creates == [
        {
            "type": "SVCB",
            "name": "_dns.example.com",
            "data": {"priority": 2, "target": "dns2.example.net"},
            "comment": MARK,
            "ttl": 1,
        }
    ]


def test_unowned_txt_is_not_taken_over():
    current = [have("r1", "TXT", "example.com", "google-site-verification=abc")]
    plan = dns_records.plan_dns_records(current, [want(type="TXT", name="@", content="v=spf1 -all")])
    assert len(plan.creates) == 1 and plan.updates == [] and plan.deletes == []


def test_owned_txt_is_taken_over():
    current = [have("r1", "TXT", "example.com", "old", comment=MARK)]
    plan = dns_records.plan_dns_records(current, [want(type="TXT", name="@", content="new")])
    assert plan.creates == [] and plan.updates[0][1] == {"content": "new"}


def test_purge_deletes_only_owned_with_same_owner():
    current = [
        have("mine", "A", "a.example.com", "192.0.2.1", comment=MARK + " home"),
        have("gone", "A", "b.example.com", "192.0.2.2", comment="note; " + MARK + " home"),
        have("other", "A", "c.example.com", "192.0.2.3", comment=MARK + " office"),
        have("noowner", "A", "d.example.com", "192.0.2.4", comment=MARK),
        have("manual", "A", "e.example.com", "192.0.2.5", comment="by hand"),
    ]
    plan = dns_records.plan_dns_records(current, [want(name="a", content="192.0.2.1")], owner_id="home", purge=True)
    assert [r["id"] for r in plan.deletes] == ["gone"]
    assert plan.counts() == {"created": 0, "updated": 0, "deleted": 1, "unchanged": 1}
    # Without purge nothing goes.
    assert dns_records.plan_dns_records(current, [], owner_id="home").deletes == []
    # Without an owner id, only records with the bare marker are ours.
    assert [r["id"] for r in dns_records.plan_dns_records(current, [], purge=True).deletes] == ["noowner"]


def test_tag_ownership():
    tag = "managed-by:homelab.mcp_edge.home"
    current = [have("t1", "A", "a.example.com", "192.0.2.1", tags=[tag]), have("t2", "A", "b.example.com", "192.0.2.2")]
    plan = dns_records.plan_dns_records(current, [want(name="z", content="192.0.2.9")], "tag", "home", purge=True)
    assert [r["id"] for r in plan.deletes] == ["t1"]
    assert plan.creates[0]["tags"] == [tag] and "comment" not in plan.creates[0]


def test_absent_entries():
    current = [have("m1", "MX", "example.com", "a.example.net", priority=10), have("m2", "MX", "example.com", "b.x")]
    plan = dns_records.plan_dns_records(current, [want(type="MX", name="@", content="a.example.net.", state="absent")])
    assert [r["id"] for r in plan.deletes] == ["m1"]
    plan = dns_records.plan_dns_records(current, [want(type="MX", name="@", state="absent")])
    assert [r["id"] for r in plan.deletes] == ["m1", "m2"]


def test_duplicates_in_desired_are_refused():
    desired = [want(name="x", content="192.0.2.1"), want(name="x.example.com", content="192.0.2.1")]
    desired[1]["_index"] = 1
    with pytest.raises(errors.CloudflareInputError, match=r"records\[1\]: duplicate of records\[0\]"):
        dns_records.plan_dns_records([], desired)


def test_operation_order_and_diff():
    current = [
        have("d", "A", "old.example.com", "192.0.2.1", comment=MARK),
        have("u", "A", "upd.example.com", "192.0.2.2", comment=MARK),
        have("s", "A", "same.example.com", "192.0.2.3", comment=MARK),
    ]
    desired = [
        want(name="upd", content="192.0.2.20"),
        want(name="same", content="192.0.2.3"),
        want(name="new", content="192.0.2.4"),
    ]
    plan = dns_records.plan_dns_records(current, desired, purge=True)
    assert [k for k, _unused in plan.operations()] == ["deletes", "patches", "posts"]
    assert plan.batches(200) == [
        {
            "deletes": [{"id": "d"}],
            "patches": [{"id": "u", "content": "192.0.2.20"}],
            "posts": [{"type": "A", "name": "new.example.com", "content": "192.0.2.4", "comment": MARK, "ttl": 1}],
        }
    ]
    diff = plan.diff()
    assert [v["name"] for v in diff["before"]["records"]] == ["old.example.com", "same.example.com", "upd.example.com"]
    assert [v["name"] for v in diff["after"]["records"]] == ["new.example.com", "same.example.com", "upd.example.com"]
    changes = plan.changes()
    assert changes["updated"][0]["after"]["content"] == "192.0.2.20" and changes["deleted"][0]["id"] == "d"


def test_comment_marker_round_trip():
    assert dns.split_marked_comment("note; " + MARK + " home") == ("note", True)
    assert dns.split_marked_comment(MARK) == (None, True)
    assert dns.split_marked_comment("plain") == ("plain", False)
    assert dns.is_owned({"comment": MARK + " home"}, "comment", "home")
    assert not dns.is_owned({"comment": MARK + " home"}, "comment", None)


# ---------------------------------------------------------------------------- applying batches


class FlakyClient:
    """post() raises an ambiguous error on the first batch (after applying it)."""

    def __init__(self):
        self.posts = []
        self.waits = []

    def post(self, path, json=None, **kw):
        self.posts.append(json)
        if len(self.posts) == 1:
            raise errors.CloudflareAmbiguousWriteError("maybe applied", status=500)
        return {}

    def wait_before_retry(self, n, retry_after, error):
        self.waits.append(n)


def test_apply_batches_replans_after_ambiguous_failure():
    desired = [want(name="h%d" % i, content="192.0.2.%d" % (i + 1)) for i in range(3)]
    plan = dns_records.plan_dns_records([], desired)
    client = FlakyClient()
    # The first batch (2 creates) went through before the 500; the re-listed zone shows them.
    applied = [have("n%d" % i, "A", "h%d.example.com" % i, "192.0.2.%d" % (i + 1), comment=MARK) for i in range(2)]
    done = dns_records.apply_dns_batches(
        client, "z", plan, 2, replan=lambda: dns_records.plan_dns_records(applied, desired)
    )
    assert done == 1 and client.waits == [1]
    assert client.posts[1] == {"posts": [plan.creates[2]]}  # only the missing record, no duplicate


# ---------------------------------------------------------------------------- cloudflare_dns_record manager


class FakeRecordClient:
    """Zone lookup, the (type, name) listing and single-record writes over an in-memory list."""

    def __init__(self, records):
        self.records = [dict(r) for r in records]
        self.calls = []

    def resolve_zone(self, zone=None, zone_id=None):
        return {"id": "z1", "name": ZONE}

    def paginate(self, path, params=None, per_page=None):
        self.calls.append(("LIST", path))
        return [dict(r) for r in self.records if (r["type"], r["name"]) == (params["type"], params["name"])]

    def post(self, path, json=None, recover=None):
        self.calls.append(("POST", path))
        rec = dict(json, id="new%d" % len(self.records))
        self.records.append(rec)
        return dict(rec)

    def patch(self, path, json=None):
        self.calls.append(("PATCH", path))
        rec = next(r for r in self.records if r["id"] == path.rsplit("/", 1)[1])
        rec.update(json)
        return dict(rec)

    def delete(self, path):
        self.calls.append(("DELETE", path))
        self.records = [r for r in self.records if r["id"] != path.rsplit("/", 1)[1]]


class FakeCF:
    def __init__(self, client, check_mode, params):
        self.client, self.check_mode, self.diff_mode, self.params = client, check_mode, True, params


def run_record(client, check_mode=False, **kw):
    params = dict(zone=ZONE, zone_id=None, content=None, data=None, ttl=None, proxied=None, comment=None)
    params.update(tags=None, priority=None, settings=None, solo=None, state="present")
    params.update(kw)
    return record_mod.DnsRecordManager(FakeCF(client, check_mode, params)).run()


def test_record_manager_https_check_mode_then_in_place():
    data = {"priority": 1, "target": ".", "value": 'alpn="h2"'}
    client = FakeRecordClient([have("h1", "HTTPS", "www.example.com", '1 . alpn="h2"', data=data, ttl=300)])
    new = {"priority": 1, "target": ".", "value": 'alpn="h3"'}
    res = run_record(client, check_mode=True, type="HTTPS", name="www", data=new)
    assert res["changed"] is True and res["record"]["id"] == "h1" and res["record"]["data"] == new
    assert [v["data"]["value"] for v in res["diff"]["before"]["records"]] == ['alpn="h2"']
    assert [v["data"]["value"] for v in res["diff"]["after"]["records"]] == ['alpn="h3"']
    assert [c[0] for c in client.calls] == ["LIST"] and client.records[0]["data"] == data
    res = run_record(client, type="HTTPS", name="www", data=new)
    assert res["changed"] is True and res["record"]["id"] == "h1"
    assert [c[0] for c in client.calls] == ["LIST", "LIST", "PATCH"] and len(client.records) == 1
    assert client.records[0]["data"] == new and client.records[0]["ttl"] == 300
    res = run_record(client, type="HTTPS", name="www.example.com.", data=new)
    assert res["changed"] is False and [c[0] for c in client.calls][3:] == ["LIST"]


def test_record_manager_svcb_adds_a_second_record_and_deletes_by_data():
    client = FakeRecordClient(
        [have("s1", "SVCB", "_dns.example.com", None, data={"priority": 1, "target": "dns.example.net"})]
    )
    res = run_record(client, type="SVCB", name="_dns", data={"priority": 2, "target": "dns2.example.net"})
    assert res["changed"] is True and res["deleted"] == []
    assert sorted(r["data"]["target"] for r in client.records) == ["dns.example.net", "dns2.example.net"]
    res = run_record(
        client, type="SVCB", name="_dns", data={"priority": 1, "target": "DNS.example.net."}, state="absent"
    )
    assert res["changed"] is True and [d["id"] for d in res["deleted"]] == ["s1"]
    assert [r["data"]["target"] for r in client.records] == ["dns2.example.net"]


# ---------------------------------------------------------------------------- plan limits

FREE_ZONE = {"name": "example.com", "plan": {"legacy_id": "free", "name": "Free Website"}, "created_on": "2025-01-01"}
OLD_FREE_ZONE = dict(FREE_ZONE, created_on="2023-05-01T00:00:00Z")
PRO_ZONE = {"name": "example.org", "plan": {"legacy_id": "pro", "name": "Pro Website"}, "created_on": "2025-01-01"}


def test_plan_limits_per_plan():
    assert dns.dns_plan_limits(FREE_ZONE)["records"] == 200
    assert dns.dns_plan_limits(OLD_FREE_ZONE)["records"] == 1000
    pro = dns.dns_plan_limits(PRO_ZONE)
    assert (pro["comment"], pro["tags"], pro["batch"], pro["records"]) == (500, True, 3500, 3500)


def test_a_comment_pushed_past_the_limit_by_the_marker_names_both():
    marker = dns.ownership_marker("comment", "x" * 40)
    body = {"type": "TXT", "name": "note.example.com", "comment": dns.mark_comment("c" * 30, marker)}
    (problem,) = dns.dns_limit_problems(FREE_ZONE, [body])
    assert "TXT note.example.com: the comment is 101 characters, zone example.com (Free Website) allows 100" in problem
    assert "the ownership marker" in problem and "may have at most 29" in problem
    assert dns.dns_limit_problems(PRO_ZONE, [body]) == []
    assert dns.dns_limit_problems(FREE_ZONE, [dict(body, comment=dns.mark_comment("c" * 29, marker))]) == []


def test_tags_quota_and_batch_size_on_free():
    body = {"type": "A", "name": "a.example.com", "tags": ["team:home"]}
    problems = dns.dns_limit_problems(FREE_ZONE, [body], records_after=201, batch_size=500)
    assert len(problems) == 3
    assert "allows no DNS record tags" in problems[0]
    assert "holds at most 200 DNS records; this change would leave 201" in problems[1]
    assert "batch_size 500" in problems[2] and "at most 200 changes" in problems[2]
    assert dns.dns_limit_problems(PRO_ZONE, [body], records_after=201, batch_size=500) == []


@pytest.mark.parametrize("tag", ["my.team:x", ":x", "no-colon", "sp ace:x"])
def test_tags_need_a_plain_name_before_the_colon(tag):
    with pytest.raises(errors.CloudflareInputError, match="name:value"):
        dns.validate_record({"type": "A", "name": "a", "content": "192.0.2.1", "tags": [tag]}, "example.com")


def test_flatten_cname_cannot_be_proxied():
    spec = {
        "type": "CNAME",
        "name": "a",
        "content": "b.example.net",
        "proxied": True,
        "settings": {"flatten_cname": True},
    }
    with pytest.raises(errors.CloudflareInputError, match="flatten_cname cannot be combined with proxied"):
        dns.validate_record(spec, "example.com")
    assert dns.validate_record(dict(spec, proxied=False), "example.com")["settings"] == {"flatten_cname": True}
