# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""The Access tag routes (the site's owner tag on applications) driven by the official ``cloudflare`` SDK.

Same approach as test_sdk_against_emulator.py: each answer is validated strictly against the SDK's own
model, so a field the SDK schema does not declare fails the test.
"""

from __future__ import annotations

import pydantic
import pytest

cloudflare = pytest.importorskip("cloudflare", reason="the cloudflare SDK is pinned in requirements-dev.txt")

from cloudflare._models import validate_type  # noqa: E402 - after importorskip
from inprocess import InProcessEmulator  # noqa: E402 - after importorskip

TOKEN = "emulator-token-all-0000000000000000000000"
ACCOUNT = "a0000000000000000000000000000001"


def strict(type_, value):
    model = validate_type(type_=type_, value=value)
    assert isinstance(model, pydantic.BaseModel)
    assert not (model.__pydantic_extra__ or {}), f"{type_.__name__}: fields outside the SDK schema"
    return model


@pytest.fixture(scope="module")
def emu():
    server = InProcessEmulator()
    yield server
    server.close()


@pytest.fixture(scope="module")
def cf(emu):
    # The SDK's own retries (connection errors; no test here expects a 429 or 5xx): on a saturated CI
    # machine the first request to the in-process emulator was once closed unanswered (2026-12-07).
    client = cloudflare.Cloudflare(api_token=TOKEN, base_url=emu.base_url, max_retries=2)
    yield client
    client.close()


def test_tag_create_list_get_delete(emu, cf):
    emu.reset()
    tags = cf.zero_trust.access.tags
    raw = tags.with_raw_response.create(account_id=ACCOUNT, name="mcp_edge home")
    created = strict(type(raw.parse()), raw.http_response.json()["result"])
    assert created.name == "mcp_edge home" and created.app_count == 0
    assert raw.http_response.status_code == 201

    raw = tags.with_raw_response.list(account_id=ACCOUNT)
    envelope = raw.http_response.json()
    page = raw.parse()
    listed = [strict(type(item), value) for item, value in zip(page.result, envelope["result"], strict=True)]
    assert [t.name for t in listed] == ["mcp_edge home"]

    raw = tags.with_raw_response.get("mcp_edge home", account_id=ACCOUNT)
    assert strict(type(raw.parse()), raw.http_response.json()["result"]).name == "mcp_edge home"

    with pytest.raises(cloudflare.BadRequestError, match="already exists"):
        tags.create(account_id=ACCOUNT, name="mcp_edge home")
    with pytest.raises(cloudflare.BadRequestError, match="at most 35 characters"):
        tags.create(account_id=ACCOUNT, name="x" * 36)

    tags.delete("mcp_edge home", account_id=ACCOUNT)
    with pytest.raises(cloudflare.NotFoundError):
        tags.get("mcp_edge home", account_id=ACCOUNT)


def test_a_tag_in_use_counts_its_applications_and_is_not_deleted(emu, cf):
    emu.reset()
    cf.zero_trust.access.tags.create(account_id=ACCOUNT, name="mcp_edge home")
    cf.zero_trust.access.applications.create(
        account_id=ACCOUNT, type="self_hosted", name="home: time", domain="time.example.com", tags=["mcp_edge home"]
    )
    assert cf.zero_trust.access.tags.get("mcp_edge home", account_id=ACCOUNT).app_count == 1
    with pytest.raises(cloudflare.BadRequestError, match="is used by 1 application"):
        cf.zero_trust.access.tags.delete("mcp_edge home", account_id=ACCOUNT)


def test_an_application_naming_a_tag_that_does_not_exist_is_refused(emu, cf):
    emu.reset()
    with pytest.raises(cloudflare.BadRequestError, match="tags must be created before assigning to an application"):
        cf.zero_trust.access.applications.create(
            account_id=ACCOUNT, type="self_hosted", name="home: time", domain="time.example.com", tags=["nope"]
        )
