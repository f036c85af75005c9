# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""cloudflare_dns_record and cloudflare_dns_records through ansible-playbook, against the emulator."""

from __future__ import annotations

import pytest

MARK = "managed-by: homelab.mcp_edge"


def by_name(records, rtype=None):
    out = {}
    for r in records:
        if rtype is None or r["type"] == rtype:
            out.setdefault(r["name"], []).append(r)
    return out


# ---------------------------------------------------------------------------- cloudflare_dns_record


@pytest.fixture(scope="module")
def single(_runner, emulator):
    emulator.reset()
    emulator.clear_faults()
    result = _runner("dns_record.yml")
    assert result.rc == 0, result.output[-3000:]
    result.final_records = emulator.records()
    return result


def test_record_create_repeat_update_in_place(single):
    create, again, change = single["Create A"], single["Create A again"], single["Change A content in place"]
    assert create["changed"] is True and again["changed"] is False
    assert create["record"]["content"] == "203.0.113.10" and create["record"]["ttl"] == 300
    assert create["api_requests"] == 3  # zone lookup, listing of (type, name), POST
    assert again["api_requests"] == 2  # zone lookup, listing
    # A changed address updates the record in place (same id), ttl and comment left alone.
    assert change["changed"] is True and change["record"]["id"] == create["record"]["id"]
    assert change["record"]["content"] == "203.0.113.11"
    assert change["record"]["ttl"] == 300 and change["record"]["comment"] == "the house"
    proxied = single["Only proxied, leave ttl and comment alone"]["record"]
    assert proxied["proxied"] is True and proxied["comment"] == "the house" and proxied["id"] == create["record"]["id"]


def test_record_multi_value_types(single):
    assert single["MX one"]["changed"] and single["MX two"]["changed"]
    mx = single["MX two new priority"]
    assert (
        mx["changed"] is True
        and mx["record"]["priority"] == 30
        and mx["record"]["id"] == single["MX two"]["record"]["id"]
    )
    mxs = by_name(single.final_records, "MX")["example.com"]
    assert sorted((r["content"], r["priority"]) for r in mxs) == [("mx1.example.net", 10), ("mx2.example.net", 30)]
    assert single["SRV"]["changed"] and not single["SRV again"]["changed"]
    assert single["SRV"]["record"]["data"]["port"] == 5060
    assert single["CAA"]["changed"] and single["CAA"]["record"]["data"]["tag"] == "issue"
    assert single["TXT"]["changed"] and not single["TXT again"]["changed"]


def test_record_https(single):
    create, again = single["HTTPS"], single["HTTPS again"]
    update, check = single["HTTPS new value in place"], single["HTTPS change in check mode"]
    rid = create["record"]["id"]
    assert create["changed"] is True and create["api_requests"] == 3  # zone, listing, POST
    assert create["record"]["data"] == {"priority": 1, "target": ".", "value": 'alpn="h2"'}
    assert create["record"]["content"] == '1 . alpn="h2"' and create["record"]["ttl"] == 300
    assert create["diff"]["before"]["records"] == []
    assert create["diff"]["after"]["records"] == [
        {
            "type": "HTTPS",
            "name": "www.example.com",
            "data": {"priority": 1, "target": ".", "value": 'alpn="h2"'},
            "ttl": 300,
            "proxied": False,
            "id": rid,
        }
    ]
    # Absolute upper-case name and priority as a string: the same record, nothing written.
    assert again["changed"] is False and again["api_requests"] == 2 and again["record"]["id"] == rid
    # A new value (priority and target unchanged) is patched in place; ttl left out stays.
    new_value = 'alpn="h3,h2" ipv4hint="203.0.113.10"'
    assert update["changed"] is True and update["api_requests"] == 3 and update["record"]["id"] == rid
    assert update["record"]["data"]["value"] == new_value and update["record"]["ttl"] == 300
    assert update["record"]["content"] == "1 . " + new_value
    assert [v["data"]["value"] for v in update["diff"]["before"]["records"]] == ['alpn="h2"']
    assert [v["data"]["value"] for v in update["diff"]["after"]["records"]] == [new_value]
    # Check mode: reported as a change with its diff, no write (zone + listing only).
    assert check["changed"] is True and check["api_requests"] == 2
    (before,), (after,) = check["diff"]["before"]["records"], check["diff"]["after"]["records"]
    assert (before["data"]["value"], before["ttl"]) == (new_value, 300)
    assert (after["data"]["value"], after["ttl"], after["id"]) == ('alpn="h3"', 600, rid)
    # The emulator still holds exactly one HTTPS record at www, as the real update left it.
    (final,) = by_name(single.final_records, "HTTPS")["www.example.com"]
    assert final["id"] == rid and final["data"] == {"priority": 1, "target": ".", "value": new_value}
    assert final["ttl"] == 300


def test_record_svcb(single):
    create, again = single["SVCB"], single["SVCB again"]
    update, check = single["SVCB new value in place"], single["SVCB second record in check mode"]
    rid = create["record"]["id"]
    assert create["changed"] is True and create["api_requests"] == 3
    assert create["record"]["name"] == "_dns.resolver.example.com"
    assert create["record"]["data"] == {"priority": 1, "target": "dns.example.net", "value": 'alpn="dot" port="853"'}
    # Target in another case with a trailing dot: the same record.
    assert again["changed"] is False and again["api_requests"] == 2 and again["record"]["id"] == rid
    assert update["changed"] is True and update["api_requests"] == 3 and update["record"]["id"] == rid
    assert update["record"]["data"]["value"] == 'alpn="dot,doq" port="853"'
    assert update["diff"]["before"]["records"][0]["data"]["value"] == 'alpn="dot" port="853"'
    assert update["diff"]["after"]["records"][0]["data"]["value"] == 'alpn="dot,doq" port="853"'
    # Another priority and target is another record (solo=false for SVCB): check mode would add it.
    assert check["changed"] is True and check["api_requests"] == 2 and "id" not in check["record"]
    assert [v.get("id") for v in check["diff"]["before"]["records"]] == [rid]
    assert [(v.get("id"), v["data"]["priority"], v["data"]["target"]) for v in check["diff"]["after"]["records"]] == [
        (rid, 1, "dns.example.net"),
        (None, 2, "dns2.example.net"),
    ]
    (final,) = by_name(single.final_records, "SVCB")["_dns.resolver.example.com"]
    assert final["id"] == rid and final["content"] == '1 dns.example.net alpn="dot,doq" port="853"'


def test_record_delete(single):
    assert single["Delete A"]["changed"] is True and len(single["Delete A"]["deleted"]) == 1
    assert single["Delete A again"]["changed"] is False
    assert "home.example.com" not in by_name(single.final_records, "A")
    assert by_name(single.final_records, "CNAME")["app.example.com"][0]["proxied"] is True


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("Bad IPv4", "content: must be an IPv4 address"),
        ("Bad TTL", "ttl: must be 1 (automatic) or 60..86400"),
        ("Proxied TXT", "proxied: only A, AAAA and CNAME"),
        ("Wildcard misuse", "name: a wildcard is only valid as the leftmost label"),
        ("SRV without data", "content: SRV records take data (keys priority, weight, port, target)"),
        ("Unknown type", "value of type must be one of: A, AAAA, CNAME"),
        ("Unknown zone", "zone 'nope.invalid' not found"),
        ("API-side validation (name outside the zone)", "name: 'host.example.org.' is outside the zone"),
    ],
)
def test_record_bad_input(single, task, expected):
    res = single[task]
    assert res["failed"] is True
    assert expected in res["msg"]
    single.assert_no_traceback()
    assert "Traceback" not in str(res.get("exception", ""))


def test_diff_renders_in_the_default_callback(run_playbook, emulator):
    """`--diff` with Ansible's default output: a unified diff of the records, and no callback warning."""
    run_playbook("dns_one.yml", extra_vars={"rec_content": "192.0.2.1"})
    for playbook, extra in (
        ("dns_one.yml", {"rec_content": "192.0.2.9"}),
        ("dns_records.yml", {"records": [{"type": "A", "name": "set", "content": "192.0.2.5"}]}),
    ):
        result = run_playbook(playbook, extra_vars=extra, check=True, diff=True, json_output=False)
        assert result.rc == 0, result.output[-3000:]
        assert "WARNING" not in result.output, result.output[-3000:]
        assert "Failed to get diff" not in result.output and "Traceback" not in result.output
        assert "--- before: " in result.stdout and "+++ after: " in result.stdout, result.stdout[-3000:]
    single = run_playbook(
        "dns_one.yml", extra_vars={"rec_content": "192.0.2.9"}, check=True, diff=True, json_output=False
    )
    assert '-            "content": "192.0.2.1"' in single.stdout, single.stdout[-2000:]
    assert '+            "content": "192.0.2.9"' in single.stdout, single.stdout[-2000:]
    assert emulator.records()[0]["content"] == "192.0.2.1"


def test_record_check_and_diff(run_playbook, emulator):
    res = run_playbook("dns_one.yml", extra_vars={"rec_content": "192.0.2.1"}, check=True, diff=True)["Record"]
    assert res["changed"] is True and res["diff"]["before"]["records"] == []
    assert res["diff"]["after"]["records"] == [
        {"type": "A", "name": "home.example.com", "content": "192.0.2.1", "ttl": 1}
    ]
    assert emulator.writes() == [] and emulator.records() == []
    run_playbook("dns_one.yml", extra_vars={"rec_content": "192.0.2.1", "rec_comment": "keep me"})
    emulator.clear_requests()
    res = run_playbook("dns_one.yml", extra_vars={"rec_content": "192.0.2.2"}, check=True, diff=True)["Record"]
    assert res["changed"] is True
    (before,), (after,) = res["diff"]["before"]["records"], res["diff"]["after"]["records"]
    assert before["content"] == "192.0.2.1" and after["content"] == "192.0.2.2"
    assert after["comment"] == "keep me" and after["id"] == before["id"]
    assert emulator.writes() == []
    # solo=false adds a second A record instead of changing the first.
    res = run_playbook("dns_one.yml", extra_vars={"rec_content": "192.0.2.2", "rec_solo": False})["Record"]
    assert res["changed"] is True
    assert sorted(r["content"] for r in emulator.records()) == ["192.0.2.1", "192.0.2.2"]
    # ...and solo=true (the A default) folds them back into one, changed in place.
    res = run_playbook("dns_one.yml", extra_vars={"rec_content": "192.0.2.3"})["Record"]
    assert res["changed"] is True and len(res["deleted"]) == 1
    assert [r["content"] for r in emulator.records()] == ["192.0.2.3"]


# ---------------------------------------------------------------------------- cloudflare_dns_records


def make_records(n, prefix="host", base=1):
    return [
        {"type": "A", "name": "%s%03d" % (prefix, i), "content": "198.51.%d.%d" % (i // 250, (i % 250) + base)}
        for i in range(n)
    ]


def test_records_create_noop_change_counts(run_playbook, emulator):
    records = [
        *make_records(30),
        {"type": "CNAME", "name": "app", "content": "home.example.com", "proxied": True},
        {"type": "MX", "name": "@", "content": "mx1.example.net", "priority": 10},
        {
            "type": "SRV",
            "name": "_sip._tcp",
            "data": {"priority": 1, "weight": 2, "port": 5060, "target": "sip.example.com"},
        },
        {"type": "TXT", "name": "@", "content": "v=spf1 -all"},
        {"type": "HTTPS", "name": "@", "data": {"priority": 1, "target": ".", "value": 'alpn="h2"'}},
        {"type": "SVCB", "name": "_dns", "data": {"priority": 1, "target": "dns.example.net", "value": 'alpn="dot"'}},
    ]
    res = run_playbook("dns_records.yml", extra_vars={"records": records})["Records"]
    assert res["changed"] is True and res["counts"] == {"created": 36, "updated": 0, "deleted": 0, "unchanged": 0}
    counters = emulator.counters()
    assert counters["total"] == 3 and counters["writes"] == 1  # zone, listing, one batch
    state = emulator.records()
    assert len(state) == 36 and all(MARK in (r["comment"] or "") for r in state)
    assert by_name(state, "HTTPS")["example.com"][0]["content"] == '1 . alpn="h2"'
    assert by_name(state, "SVCB")["_dns.example.com"][0]["data"] == {
        "priority": 1,
        "target": "dns.example.net",
        "value": 'alpn="dot"',
    }
    ids = {(r["type"], r["name"]): r["id"] for r in state}

    emulator.clear_requests()
    res = run_playbook("dns_records.yml", extra_vars={"records": records})["Records"]
    assert res["changed"] is False and res["counts"]["unchanged"] == 36
    counters = emulator.counters()
    assert counters["total"] == 2 and counters["writes"] == 0 and res["api_requests"] == 2

    emulator.clear_requests()
    changed = [dict(r) for r in records]
    for r in changed[:5]:
        r["content"] = r["content"].replace("198.51.", "203.0.")
    changed[30]["proxied"] = False
    changed[34] = {**changed[34], "data": {"priority": 1, "target": ".", "value": 'alpn="h3,h2"'}}
    res = run_playbook("dns_records.yml", extra_vars={"records": changed}, diff=True)["Records"]
    assert res["counts"] == {"created": 0, "updated": 7, "deleted": 0, "unchanged": 29}
    assert emulator.counters()["total"] == 3
    state = emulator.records()
    assert len(state) == 36  # changed in place, nothing added
    assert {(r["type"], r["name"]): r["id"] for r in state} == ids
    assert by_name(state, "HTTPS")["example.com"][0]["data"]["value"] == 'alpn="h3,h2"'
    before = {(v["name"], v["type"]): v for v in res["diff"]["before"]["records"]}
    after = {(v["name"], v["type"]): v for v in res["diff"]["after"]["records"]}
    assert before[("host000.example.com", "A")]["content"] == "198.51.0.1"
    assert after[("host000.example.com", "A")]["content"] == "203.0.0.1"
    assert before[("example.com", "HTTPS")]["data"]["value"] == 'alpn="h2"'
    assert after[("example.com", "HTTPS")]["data"]["value"] == 'alpn="h3,h2"'


def test_records_check_mode_writes_nothing(run_playbook, emulator):
    res = run_playbook("dns_records.yml", extra_vars={"records": make_records(5)}, check=True, diff=True)["Records"]
    assert res["changed"] is True and res["counts"]["created"] == 5 and len(res["diff"]["after"]["records"]) == 5
    assert emulator.writes() == [] and emulator.records() == []


def test_records_purge_only_owned(run_playbook, emulator):
    # A record made by someone else (no marker) and one of another owner.
    run_playbook("dns_one.yml", extra_vars={"rec_name": "manual", "rec_content": "192.0.2.50"})
    run_playbook("dns_records.yml", extra_vars={"records": make_records(2, "other"), "owner_id": "otherhost"})
    run_playbook("dns_records.yml", extra_vars={"records": make_records(4), "owner_id": "home"})
    assert len(emulator.records()) == 7
    res = run_playbook("dns_records.yml", extra_vars={"records": make_records(2), "owner_id": "home", "purge": True})[
        "Records"
    ]
    assert res["counts"] == {"created": 0, "updated": 0, "deleted": 2, "unchanged": 2}
    names = sorted(r["name"] for r in emulator.records())
    assert names == [
        "host000.example.com",
        "host001.example.com",
        "manual.example.com",
        "other000.example.com",
        "other001.example.com",
    ]
    # Purge with an empty wanted set still never touches records it does not own.
    res = run_playbook("dns_records.yml", extra_vars={"records": [], "owner_id": "home", "purge": True})["Records"]
    assert res["counts"]["deleted"] == 2
    assert sorted(r["name"] for r in emulator.records()) == [
        "manual.example.com",
        "other000.example.com",
        "other001.example.com",
    ]


def test_records_chunking_and_absent(run_playbook, emulator):
    records = make_records(25)
    res = run_playbook("dns_records.yml", extra_vars={"records": records, "batch_size": 10})["Records"]
    assert res["batches"] == 3 and res["counts"]["created"] == 25
    assert emulator.counters()["by_route"]["POST /zones/:id/dns_records/batch"] == 3
    gone = [{"type": "A", "name": r["name"], "state": "absent"} for r in records[:3]]
    res = run_playbook("dns_records.yml", extra_vars={"records": gone})["Records"]
    assert res["counts"]["deleted"] == 3 and len(emulator.records()) == 22


def test_records_tag_ownership_on_paid_zone(run_playbook, emulator):
    res = run_playbook(
        "dns_records.yml",
        extra_vars={"records": make_records(3), "ownership": "tag", "records_zone": "example.org", "purge": True},
    )["Records"]
    assert res["counts"]["created"] == 3
    recs = emulator.records("example.org")
    assert all("managed-by:homelab.mcp_edge" in r["tags"] for r in recs)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"records": [{"type": "A", "name": "x", "content": "nope"}]}, "records[0].content: must be an IPv4 address"),
        ({"records": [{"type": "MX", "name": "@"}]}, "records[0].content: is required for MX records"),
        (
            {
                "records": [
                    {"type": "A", "name": "x", "content": "192.0.2.1"},
                    {"type": "A", "name": "x.example.com", "content": "192.0.2.1"},
                ]
            },
            "records[1]: duplicate of records[0]",
        ),
        ({"records": [], "purge": True, "ownership": "none"}, "purge: purge needs ownership=comment or ownership=tag"),
        ({"records": [], "owner_id": "has space"}, "owner_id: must be 1-40 letters"),
        ({"records": [{"type": "A", "name": "x", "content": "192.0.2.1", "colour": "red"}]}, "colour"),
    ],
)
def test_records_bad_input(run_playbook, emulator, extra, expected):
    result = run_playbook("dns_records.yml", extra_vars=extra)
    res = result["Records"]
    assert res["failed"] is True and expected in res["msg"], res["msg"]
    result.assert_no_traceback()
    assert emulator.writes() == []


def test_free_plan_limits_fail_before_any_write(run_playbook, emulator):
    """A 30-character comment plus the ownership marker (with a 40-character owner id) is 101
    characters: the Free plan allows 100, so the module refuses before the batch is sent."""
    records = [{"type": "TXT", "name": "note", "content": "hello", "comment": "c" * 30}]
    result = run_playbook("dns_records.yml", extra_vars={"records": records, "owner_id": "o" * 40})
    res = result["Records"]
    assert res["failed"] is True
    assert "the comment is 101 characters, zone example.com (Free Website) allows 100" in res["msg"], res["msg"]
    assert "may have at most 29" in res["msg"]
    assert emulator.writes() == [] and emulator.records() == []
    # The same comment one character shorter fits, and is written.
    records[0]["comment"] = "c" * 29
    res = run_playbook("dns_records.yml", extra_vars={"records": records, "owner_id": "o" * 40})["Records"]
    assert res["changed"] is True and len(emulator.records()) == 1
