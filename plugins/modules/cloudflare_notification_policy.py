#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_notification_policy
short_description: Manage Cloudflare account notification policies for tunnel and Access alerts
version_added: 0.4.0
description:
  - Makes sure an account-level notification policy (Cloudflare's Notifications, the C(alerting/v3) API) with a
    given name exists with the given alert type, filters and recipients, or does not exist.
  - Supports the alert types of Cloudflare Tunnel and Zero Trust Access (see O(alert_type)), so that a tunnel
    going down or a service token about to expire reaches an e-mail address or a webhook.
  - Webhooks are named by the names given to M(homelab.mcp_edge.cloudflare_notification_webhook) (or by their
    IDs) and resolved with one listing of the account's webhook destinations.
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.full_support
options:
  name:
    description:
      - Name of the policy; identifies it within the account, together with the ownership marker (see the notes).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the policy; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  alert_type:
    description:
      - The event that triggers a notification. Required when the policy is created.
      - V(tunnel_health_event) (Tunnel Health Alert) - a Cloudflare Tunnel's health changes; filters
        C(tunnel_id) and C(new_status).
      - V(tunnel_update_event) (Tunnel Creation or Deletion Event) - a tunnel is created or deleted; no filters.
      - V(expiring_service_token_alert) (Expiring Access Service Token Alert) - an Access service token expires
        soon; no filters.
      - V(access_custom_certificate_expiration_type) (Access mTLS Certificate Expiration Alert) - an Access mTLS
        certificate expires soon; no filters.
    type: str
    choices:
      - tunnel_health_event
      - tunnel_update_event
      - expiring_service_token_alert
      - access_custom_certificate_expiration_type
  enabled:
    description:
      - Whether the policy sends notifications.
    type: bool
    default: true
  description:
    description:
      - >-
        A description of the policy. The module adds the ownership marker C(managed-by: homelab.mcp_edge) (with
        O(owner_id) after it) to it, after a C(; ); leave the marker out of this text.
      - Left out, the description the policy has is kept (and the marker added).
    type: str
  filters:
    description:
      - Only alert on some events of O(alert_type), with the API's keys (snake_case). Each key takes a list of
        values (a single string is read as a list of one).
      - For V(tunnel_health_event), C(tunnel_id) takes tunnel IDs (UUIDs, such as
        RV(homelab.mcp_edge.cloudflare_tunnel#module:tunnel.id)) and C(new_status) the statuses to alert on,
        V(healthy), V(degraded) or V(down) (or the API's V(TUNNEL_STATUS_TYPE_HEALTHY), V(TUNNEL_STATUS_TYPE_DEGRADED),
        V(TUNNEL_STATUS_TYPE_DOWN)). The other alert types take no filters.
      - Given, the keys the alert type takes are set exactly as given (a key left out is removed); keys the
        module does not know, which the API may hold, are kept. Left out, the policy's filters stay as they are.
    type: dict
  emails:
    description:
      - E-mail addresses to notify (the API's C(mechanisms.email)). Compared without regard to case or order.
      - Left out, the policy's e-mail recipients stay as they are. A new policy needs O(emails) or O(webhooks).
    type: list
    elements: str
  webhooks:
    description:
      - Webhook destinations to notify, by name or ID (the API's C(mechanisms.webhooks)); each name must belong to
        exactly one destination of the account.
      - Left out, the policy's webhooks stay as they are. Webhook destinations need a zone on the Pro plan or
        above in the account.
    type: list
    elements: str
  owner_id:
    description:
      - Who manages this policy, for example the site (C(homelab_site)); 1-40 letters, digits, C(.), C(_) or C(-).
        It is written in the policy's ownership marker; a policy whose marker names another owner is foreign.
    type: str
  adopt:
    description:
      - Take over a policy of this name that this owner did not create (no marker, or another owner's). It gets
        this owner's marker and is managed (with O(state=absent), deleted) like one the module created.
      - Without it such a policy fails the task before any write (O(state=present)) or is left alone with a
        warning (O(state=absent)).
    type: bool
    default: false
notes:
  - >-
    B(Ownership.) A policy the module writes carries the marker C(managed-by: homelab.mcp_edge [owner_id]) in its
    description. The module never changes or deletes a policy of the wanted name without this owner's marker,
    unless O(adopt=true). Changing the description in the dashboard so that the marker goes makes the policy foreign.
  - B(What is compared.) Only what the module owns - O(alert_type), O(enabled), the description, the filter keys
    of the alert type, and the e-mail and webhook recipients where given. Other fields the API holds (PagerDuty
    recipients, C(alert_interval), unknown filter keys) are carried over unchanged; an update is one C(PUT) of the
    whole policy.
  - B(Requests.) One listing of the account's policies per task, one listing of its webhook destinations when
    O(webhooks) is given, and one write per change. Bad input (an alert type, a filter key or value, an e-mail
    address) fails the task before any request.
  - The API token needs the permission C(Account > Notifications > Edit) (C(Read) for check mode).
seealso:
  - module: homelab.mcp_edge.cloudflare_notification_webhook
  - module: homelab.mcp_edge.cloudflare_tunnel
  - name: Cloudflare Notifications
    description: Cloudflare's documentation of notifications and the available alert types.
    link: https://developers.cloudflare.com/notifications/
  - name: Tunnel notifications
    description: The Tunnel Health Alert and the Tunnel Creation or Deletion Event.
    link: https://developers.cloudflare.com/cloudflare-one/networks/connectors/cloudflare-tunnel/monitor-tunnels/notifications/
"""

EXAMPLES = r"""
- name: A webhook destination for alerts
  homelab.mcp_edge.cloudflare_notification_webhook:
    name: homelab-alerts
    url: https://alerts.example.net/cloudflare
    secret: "{{ vault_notification_webhook_secret }}"
  delegate_to: localhost

- name: A remote-managed tunnel to watch
  homelab.mcp_edge.cloudflare_tunnel:
    name: home
    config_src: cloudflare
  delegate_to: localhost
  no_log: true        # its run token is in the result
  register: tunnel

- name: Mail and the webhook when the tunnel is degraded or down
  homelab.mcp_edge.cloudflare_notification_policy:
    name: "home: tunnel down"
    alert_type: tunnel_health_event
    description: The home tunnel lost connectors
    filters:
      tunnel_id: ["{{ tunnel.tunnel.id }}"]
      new_status: [degraded, down]
    emails: [ops@example.com]
    webhooks: [homelab-alerts]
    owner_id: home
  delegate_to: localhost

- name: Warn before an Access service token expires
  homelab.mcp_edge.cloudflare_notification_policy:
    name: "home: service token expiring"
    alert_type: expiring_service_token_alert
    emails: [ops@example.com]
    owner_id: home
  delegate_to: localhost

- name: Pause a policy (only the enabled flag changes)
  homelab.mcp_edge.cloudflare_notification_policy:
    name: "home: service token expiring"
    enabled: false
    owner_id: home
  delegate_to: localhost

- name: Delete a policy
  homelab.mcp_edge.cloudflare_notification_policy:
    name: "home: service token expiring"
    state: absent
    owner_id: home
  delegate_to: localhost
"""

RETURN = r"""
id:
  description: ID of the policy. V(null) when it does not exist, or would be created in check mode.
  returned: always
  type: str
  sample: 0da2b59e-f118-439d-8097-bdfb215203c9
policy:
  description:
    - The policy after the task (before it, for O(state=absent)), in the API's form.
    - After a create it holds what was sent and the new ID (the API answers only the ID).
  returned: always
  type: dict
  contains:
    id:
      description: Policy ID.
      type: str
    name:
      description: Name.
      type: str
    alert_type:
      description: The alert type.
      type: str
    enabled:
      description: Whether the policy sends notifications.
      type: bool
    description:
      description: The description, the ownership marker included.
      type: str
    filters:
      description: The filters, each key a list of values.
      type: dict
    mechanisms:
      description: The recipients, C(email) and C(webhooks) (and C(pagerduty)), each a list of C({id}).
      type: dict
  sample:
    id: 0da2b59e-f118-439d-8097-bdfb215203c9
    name: "home: tunnel down"
    alert_type: tunnel_health_event
    enabled: true
    description: "The home tunnel lost connectors; managed-by: homelab.mcp_edge home"
    filters:
      new_status: [TUNNEL_STATUS_TYPE_DEGRADED, TUNNEL_STATUS_TYPE_DOWN]
      tunnel_id: [f70ff985-a4ef-4643-bbbc-4a0ed4fc8415]
    mechanisms:
      email:
        - id: ops@example.com
      webhooks:
        - id: b115d5ec-15c6-41ee-8b76-92c449b5227b
adopted:
  description: Whether a policy this owner did not create was taken over (O(adopt=true)).
  returned: always
  type: bool
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule
from ansible_collections.homelab.mcp_edge.plugins.module_utils._notification_policy import (
    POLICY_OPTIONS,
    NotificationPolicyManager,
)


def main():
    CloudflareModule(argument_spec=dict(POLICY_OPTIONS), supports_check_mode=True).run(NotificationPolicyManager)


if __name__ == "__main__":
    main()
