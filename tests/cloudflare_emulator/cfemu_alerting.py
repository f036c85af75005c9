# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
"""Account notifications (the alerting API, ``/accounts/{a}/alerting/v3/...``) of the Cloudflare API emulator:
notification policies, webhook destinations and the list of available alert types.

Facts, their sources and what is unconfirmed: docs/cloudflare-api-facts.md, section "Notifications".
In short: creates and updates answer only ``{"id"}`` (HTTP 200); deletes answer ``result: null``; lists are one
page (the SDK reads them as ``SinglePage``); a webhook's secret is never answered; creating or updating a webhook
makes Cloudflare send a test message to its URL, so a URL Cloudflare cannot deliver to is refused; webhook
destinations need a zone on the Pro plan or above in the account.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import urllib.parse

from cfemu_core import ApiError, new_uuid, now_iso, require_object, sha256

# Every alert type SDK 4.3.1 knows (``types/alerting/policy_create_params.py``, the ``alert_type`` Literal).
ALERT_TYPES = (
    "access_custom_certificate_expiration_type",
    "advanced_ddos_attack_l4_alert",
    "advanced_ddos_attack_l7_alert",
    "advanced_http_alert_error",
    "bgp_hijack_notification",
    "billing_usage_alert",
    "block_notification_block_removed",
    "block_notification_new_block",
    "block_notification_review_rejected",
    "bot_traffic_basic_alert",
    "brand_protection_alert",
    "brand_protection_digest",
    "clickhouse_alert_fw_anomaly",
    "clickhouse_alert_fw_ent_anomaly",
    "cloudforce_one_request_notification",
    "custom_analytics",
    "custom_bot_detection_alert",
    "custom_ssl_certificate_event_type",
    "dedicated_ssl_certificate_event_type",
    "device_connectivity_anomaly_alert",
    "dos_attack_l4",
    "dos_attack_l7",
    "expiring_service_token_alert",
    "failing_logpush_job_disabled_alert",
    "fbm_auto_advertisement",
    "fbm_dosd_attack",
    "fbm_volumetric_attack",
    "health_check_status_notification",
    "hostname_aop_custom_certificate_expiration_type",
    "http_alert_edge_error",
    "http_alert_origin_error",
    "image_notification",
    "image_resizing_notification",
    "incident_alert",
    "load_balancing_health_alert",
    "load_balancing_pool_enablement_alert",
    "logo_match_alert",
    "magic_tunnel_health_check_event",
    "magic_wan_tunnel_health",
    "maintenance_event_notification",
    "mtls_certificate_store_certificate_expiration_type",
    "pages_event_alert",
    "radar_notification",
    "real_origin_monitoring",
    "scriptmonitor_alert_new_code_change_detections",
    "scriptmonitor_alert_new_hosts",
    "scriptmonitor_alert_new_malicious_hosts",
    "scriptmonitor_alert_new_malicious_scripts",
    "scriptmonitor_alert_new_malicious_url",
    "scriptmonitor_alert_new_max_length_resource_url",
    "scriptmonitor_alert_new_resources",
    "secondary_dns_all_primaries_failing",
    "secondary_dns_primaries_failing",
    "secondary_dns_warning",
    "secondary_dns_zone_successfully_updated",
    "secondary_dns_zone_validation_warning",
    "security_insights_alert",
    "sentinel_alert",
    "stream_live_notifications",
    "synthetic_test_latency_alert",
    "synthetic_test_low_availability_alert",
    "traffic_anomalies_alert",
    "tunnel_health_event",
    "tunnel_update_event",
    "universal_ssl_event_type",
    "web_analytics_metrics_update",
    "zone_aop_custom_certificate_expiration_type",
)
# The categories and names the dashboard shows for the alert types this emulator describes by name; the others are
# listed under "Other" with their type as their name.
CATEGORIES = {
    "Tunnel": {
        "tunnel_health_event": "Tunnel Health Alert",
        "tunnel_update_event": "Tunnel Creation or Deletion Event",
    },
    "Access": {
        "expiring_service_token_alert": "Expiring Access Service Token Alert",
        "access_custom_certificate_expiration_type": "Access mTLS Certificate Expiration Alert",
    },
}
# The filter keys SDK 4.3.1 knows (``types/alerting/policy_filter_param.py``); each takes a list of strings.
FILTER_KEYS = (
    "actions",
    "affected_asns",
    "affected_components",
    "affected_locations",
    "airport_code",
    "alert_trigger_preferences",
    "alert_trigger_preferences_value",
    "enabled",
    "environment",
    "event",
    "event_source",
    "event_type",
    "group_by",
    "health_check_id",
    "incident_impact",
    "input_id",
    "insight_class",
    "limit",
    "logo_tag",
    "megabits_per_second",
    "new_health",
    "new_status",
    "packets_per_second",
    "pool_id",
    "pop_names",
    "product",
    "project_id",
    "protocol",
    "query_tag",
    "requests_per_second",
    "selectors",
    "services",
    "slo",
    "status",
    "target_hostname",
    "target_ip",
    "target_zone_name",
    "traffic_exclusions",
    "tunnel_id",
    "tunnel_name",
    "where",
    "zones",
)
# tunnel_health_event's new_status takes these (the statuses Cloudflare's alerts carry).
TUNNEL_STATUSES = ("TUNNEL_STATUS_TYPE_HEALTHY", "TUNNEL_STATUS_TYPE_DEGRADED", "TUNNEL_STATUS_TYPE_DOWN")
MECHANISMS = ("email", "webhooks", "pagerduty")
# An address: a local part without spaces or separators, "@", then a domain of at least two labels.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
EMAIL_RE = re.compile(r"^[^@\s,;<>\"]+@" + _LABEL + r"(?:\." + _LABEL + r")+$")
# Host names that never resolve publicly (RFC 2606, RFC 6761, and the mDNS / private-use suffixes).
PRIVATE_SUFFIXES = (".invalid", ".test", ".localhost", ".local", ".internal", ".home.arpa", ".lan")
# Webhook types by the host of their URL; for these Cloudflare takes the secret out of the URL when none is given.
WEBHOOK_HOSTS = {"hooks.slack.com": "slack", "chat.googleapis.com": "gchat"}
WEBHOOK_FIELDS = ("id", "name", "url", "type", "created_at", "last_success", "last_failure")

# Codes: 17003 "Invalid object selections" and 17200 (not entitled) are Cloudflare's own (see the facts page);
# the others are the emulator's (unconfirmed).
CODE_INVALID = 17000
CODE_ALERT_TYPE = 17001
CODE_SELECTIONS = 17003
CODE_MECHANISM = 17004
CODE_NOT_ENTITLED = 17200
CODE_WEBHOOK_TEST = 17300
CODE_NOT_FOUND = 17404


def invalid(message: str, code: int = CODE_INVALID) -> ApiError:
    return ApiError(400, code, message)


def not_found(what: str) -> ApiError:
    return ApiError(404, CODE_NOT_FOUND, f"{what} not found")


def _account(ctx) -> str:
    ctx.store.account(ctx.params["account"], ctx.rel_path)
    return ctx.params["account"]


def _in_account(ctx, kind: str, account_id: str) -> list:
    return [o for o in ctx.store.data[kind] if o["_account"] == account_id]


def _find(ctx, kind: str, what: str) -> dict:
    account_id = _account(ctx)
    for obj in _in_account(ctx, kind, account_id):
        if obj["id"] == ctx.params["id"]:
            return obj
    raise not_found(what)


def _strip(obj: dict) -> dict:
    return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}


def _one_page(items: list):
    """Alerting lists are one page (SDK ``SinglePage``): everything, and a result_info that says so."""
    info = {"page": 1, "per_page": len(items), "count": len(items), "total_count": len(items), "total_pages": 1}
    return items, info


def _required_string(body: dict, field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{field} is required")
    return value


# --------------------------------------------------------------------------- available alerts


def list_available_alerts(ctx):
    _account(ctx)
    named = {t: (cat, name) for cat, types in CATEGORIES.items() for t, name in types.items()}
    out = {}
    for alert_type in ALERT_TYPES:
        category, display = named.get(alert_type, ("Other", alert_type))
        item = {"type": alert_type, "display_name": display, "description": display, "filter_options": []}
        out.setdefault(category, []).append(item)
    return 200, out, None


# --------------------------------------------------------------------------- policies


def _validate_filters(alert_type: str, filters) -> dict:
    if filters is None:
        return {}
    if not isinstance(filters, dict):
        raise invalid("filters must be an object of lists of strings")
    out = {}
    for key, values in filters.items():
        if key not in FILTER_KEYS:
            raise invalid("Invalid object selections", CODE_SELECTIONS)
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise invalid(f"filters.{key} must be a list of strings")
        if alert_type == "tunnel_health_event" and key == "new_status":
            if any(v not in TUNNEL_STATUSES for v in values):
                raise invalid("Invalid object selections", CODE_SELECTIONS)
        out[key] = list(values)
    return out


def _validate_mechanisms(ctx, account_id: str, mechanisms) -> dict:
    if not isinstance(mechanisms, dict) or not mechanisms:
        raise invalid("mechanisms is required")
    webhooks = {w["id"] for w in _in_account(ctx, "alerting_webhooks", account_id)}
    out = {}
    total = 0
    for kind, items in mechanisms.items():
        if kind not in MECHANISMS:
            raise invalid(f"mechanisms.{kind} is not a delivery mechanism ({', '.join(MECHANISMS)})", CODE_MECHANISM)
        if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
            raise invalid(f"mechanisms.{kind} must be a list of objects with an id", CODE_MECHANISM)
        for item in items:
            if kind == "email" and not EMAIL_RE.match(item["id"]):
                raise invalid(f"Invalid email address: '{item['id']}'", CODE_MECHANISM)
            if kind == "webhooks" and item["id"] not in webhooks:
                raise invalid(f"webhook destination '{item['id']}' does not exist", CODE_MECHANISM)
            if kind == "pagerduty":
                # No PagerDuty service is connected to an emulated account.
                raise invalid(f"pagerduty destination '{item['id']}' does not exist", CODE_MECHANISM)
        out[kind] = [{"id": i["id"]} for i in items]
        total += len(items)
    if not total:
        raise invalid("mechanisms must name at least one destination", CODE_MECHANISM)
    return out


def _validate_policy(ctx, account_id: str, body) -> dict:
    """A create or a PUT: the whole policy (a PUT replaces it; what it leaves out is reset)."""
    body = require_object(body)
    name = _required_string(body, "name")
    alert_type = body.get("alert_type")
    if alert_type is None:
        raise invalid("alert_type is required")
    if alert_type not in ALERT_TYPES:
        raise invalid(f"Invalid alert type: '{alert_type}'", CODE_ALERT_TYPE)
    if not isinstance(body.get("enabled"), bool):
        raise invalid("enabled is required and must be true or false")
    description = body.get("description", "")
    if not isinstance(description, str):
        raise invalid("description must be a string")
    out = {
        "name": name,
        "alert_type": alert_type,
        "enabled": body["enabled"],
        "description": description,
        "filters": _validate_filters(alert_type, body.get("filters")),
        "mechanisms": _validate_mechanisms(ctx, account_id, body.get("mechanisms")),
    }
    if body.get("alert_interval") is not None:
        if not isinstance(body["alert_interval"], str):
            raise invalid("alert_interval must be a string such as '30m'")
        out["alert_interval"] = body["alert_interval"]
    return out


def list_policies(ctx):
    account_id = _account(ctx)
    items, info = _one_page([_strip(p) for p in _in_account(ctx, "alerting_policies", account_id)])
    return 200, items, info


def get_policy(ctx):
    return 200, _strip(_find(ctx, "alerting_policies", "Policy")), None


def create_policy(ctx):
    account_id = _account(ctx)
    pol = _validate_policy(ctx, account_id, ctx.body)
    now = now_iso()
    pol.update({"id": new_uuid(), "created": now, "modified": now, "_account": account_id})
    ctx.store.data["alerting_policies"].append(pol)
    return 200, {"id": pol["id"]}, None


def put_policy(ctx):
    pol = _find(ctx, "alerting_policies", "Policy")
    new = _validate_policy(ctx, pol["_account"], ctx.body)
    keep = {k: pol[k] for k in ("id", "created", "_account")}
    pol.clear()
    pol.update(new, **keep)
    pol["modified"] = now_iso()
    return 200, {"id": pol["id"]}, None


def delete_policy(ctx):
    pol = _find(ctx, "alerting_policies", "Policy")
    ctx.store.data["alerting_policies"].remove(pol)
    return 200, None, None


# --------------------------------------------------------------------------- webhook destinations


def _entitled(ctx, account_id: str) -> bool:
    """Webhooks need "at least one zone with a pro plan or above" in the account."""
    return any(
        z["account"]["id"] == account_id and z.get("plan", {}).get("legacy_id", "free") != "free"
        for z in ctx.store.data["zones"]
    )


def _undeliverable(parts: urllib.parse.SplitResult) -> str | None:
    """Why Cloudflare's test message to this URL would fail, or None (it goes to public addresses, 80 or 443)."""
    try:
        port = parts.port
    except ValueError:
        return "the port is not a number"
    if port not in (None, 80, 443):
        return f"notifications are sent to port 80 or 443 only, not {port}"
    host = (parts.hostname or "").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith(PRIVATE_SUFFIXES) or "." not in host:
            return f"{host} is not a publicly resolvable host"
        return None
    if not address.is_global:
        return f"{host} is not a public address"
    return None


def _validate_webhook(ctx, account_id: str, body) -> dict:
    body = require_object(body)
    name = _required_string(body, "name")
    url = _required_string(body, "url")
    secret = body.get("secret")
    if secret is not None and not isinstance(secret, str):
        raise invalid("secret must be a string")
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("url must be an http or https URL")
    if not _entitled(ctx, account_id):
        raise ApiError(
            400,
            CODE_NOT_ENTITLED,
            "account is not entitled to webhook destinations (it needs a zone on the Pro plan or above)",
        )
    # Cloudflare sends a test message when a webhook is saved; a URL it cannot deliver to is refused.
    why = _undeliverable(parts)
    if why:
        raise invalid(f"failed to send the test message to the webhook: {why}", CODE_WEBHOOK_TEST)
    host = parts.hostname.lower()
    kind = WEBHOOK_HOSTS.get(host, "generic")
    if kind == "slack" and not secret:
        # A Slack URL holds its secret as the last path segment; without an explicit secret Cloudflare takes it
        # out of the URL and keeps it as the secret (the stored URL then ends before it).
        segments = parts.path.rstrip("/").split("/")
        if len(segments) == 5 and segments[1] == "services":
            secret = segments[4]
            url = urllib.parse.urlunsplit(parts._replace(path="/".join(segments[:4])))
    return {"name": name, "url": url.strip(), "type": kind, "_secret_sha256": sha256(secret) if secret else None}


def webhook_public(hook: dict) -> dict:
    return {k: copy.deepcopy(hook.get(k)) for k in WEBHOOK_FIELDS}


def list_webhooks(ctx):
    account_id = _account(ctx)
    items, info = _one_page([webhook_public(w) for w in _in_account(ctx, "alerting_webhooks", account_id)])
    return 200, items, info


def get_webhook(ctx):
    return 200, webhook_public(_find(ctx, "alerting_webhooks", "Webhook")), None


def create_webhook(ctx):
    account_id = _account(ctx)
    hook = _validate_webhook(ctx, account_id, ctx.body)
    hook.update(
        {
            "id": new_uuid(),
            "created_at": now_iso(),
            "last_success": None,
            "last_failure": None,
            "_account": account_id,
        }
    )
    ctx.store.data["alerting_webhooks"].append(hook)
    return 200, {"id": hook["id"]}, None


def put_webhook(ctx):
    hook = _find(ctx, "alerting_webhooks", "Webhook")
    # A PUT replaces the destination: a secret it leaves out is gone (the API's behaviour is unconfirmed).
    hook.update(_validate_webhook(ctx, hook["_account"], ctx.body))
    return 200, {"id": hook["id"]}, None


def delete_webhook(ctx):
    hook = _find(ctx, "alerting_webhooks", "Webhook")
    ctx.store.data["alerting_webhooks"].remove(hook)
    return 200, None, None


def _routes() -> list:
    base = "/accounts/{account}/alerting/v3"
    routes = [("GET", base + "/available_alerts", list_available_alerts, "notifications:read")]
    for path, lst, get, create, put, delete in (
        ("/policies", list_policies, get_policy, create_policy, put_policy, delete_policy),
        ("/destinations/webhooks", list_webhooks, get_webhook, create_webhook, put_webhook, delete_webhook),
    ):
        routes += [
            ("GET", base + path, lst, "notifications:read"),
            ("POST", base + path, create, "notifications:edit"),
            ("GET", base + path + "/{id}", get, "notifications:read"),
            ("PUT", base + path + "/{id}", put, "notifications:edit"),
            ("DELETE", base + path + "/{id}", delete, "notifications:edit"),
        ]
    return routes


ROUTES = _routes()
