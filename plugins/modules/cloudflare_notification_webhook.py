#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_notification_webhook
short_description: Manage Cloudflare notification webhook destinations
version_added: 0.4.0
description:
  - Makes sure a webhook destination of the account's notifications (the C(alerting/v3) API) with a given name
    exists with a given URL, or does not exist.
  - M(homelab.mcp_edge.cloudflare_notification_policy) names it in its
    O(homelab.mcp_edge.cloudflare_notification_policy#module:webhooks).
  - Cloudflare sends the secret in the C(cf-webhook-auth) header of every notification; a receiver should reject
    requests without it.
author:
  - homelab.mcp_edge contributors (!UNKNOWN)
extends_documentation_fragment:
  - homelab.mcp_edge.cloudflare
  - homelab.mcp_edge.cloudflare.attributes
  - homelab.mcp_edge.cloudflare.full_support
attributes:
  idempotent:
    support: partial
    details:
      - Idempotent unless O(update_secret=always) with O(secret), which sends the secret (and reports a change) on
        every run.
options:
  name:
    description:
      - Name of the destination; identifies it within the account. Cloudflare includes it in the body of each
        notification.
      - The name is also the only ownership marker a webhook can carry (see the notes).
    type: str
    required: true
  state:
    description:
      - V(present) creates the destination or changes its URL; V(absent) deletes it (policies naming it then
        notify it no more).
    type: str
    choices: [present, absent]
    default: present
  url:
    description:
      - The URL Cloudflare POSTs each notification to. Required when the destination is created.
      - Cloudflare delivers only to publicly resolvable addresses on port 80 or 443; another port is refused
        before any request.
      - For Slack, Google Chat, Discord and Feishu URLs, which hold their secret, Cloudflare keeps the URL without
        that part when no O(secret) is given; the module then takes the URL it keeps as equal to the one given.
        Giving the secret separately, as Cloudflare recommends for configuration as code, keeps the URL unchanged.
    type: str
  secret:
    description:
      - Sent in the C(cf-webhook-auth) header of each notification. Never returned by the API, never shown by
        the module.
      - See O(update_secret) for when it is sent.
    type: str
  update_secret:
    description:
      - Cloudflare never returns a secret, so the module cannot tell whether the one given differs from the one
        the destination has.
      - V(on_create) sends O(secret) when the destination is created, and with an update the module makes for
        another reason (a changed O(url)), never on its own; a changed secret alone is not noticed.
      - V(always) sends O(secret) (with the URL) on every run, and so always reports a change; use it once to
        replace a secret, or in a task that runs only when the secret was rotated.
    type: str
    choices: [on_create, always]
    default: on_create
notes:
  - >-
    B(Test message.) Creating a destination (and, as far as known, changing it) makes Cloudflare send a test
    message to the URL (C({"text": "Hello World! This is a test message ..."})); when the receiver does not answer
    it, Cloudflare refuses the destination and the task fails with Cloudflare's answer.
  - B(Plans.) Webhook destinations need at least one zone on the Pro plan or above in the account.
  - B(Ownership.) A webhook destination holds only a name, a URL, a type and the secret, so there is no place for
    an ownership marker; a destination of the wanted name is taken to be this task's, and O(state=absent) deletes
    it. Give names that cannot collide with destinations made by hand or by other inventories, for example the
    site as a prefix (C(home-alerts)). Notification policies carry a marker
    (M(homelab.mcp_edge.cloudflare_notification_policy)).
  - B(Changing the URL without the secret.) An update is a C(PUT) of the whole destination; whether Cloudflare
    keeps a secret the C(PUT) leaves out is not documented, so the module warns when the URL changes and no
    O(secret) is given.
  - One listing of the account's webhook destinations per task, and one write per change.
  - The API token needs the permission C(Account > Notifications > Edit) (C(Read) for check mode).
seealso:
  - module: homelab.mcp_edge.cloudflare_notification_policy
  - name: Configure webhooks
    description: Cloudflare's documentation of webhook destinations, their secrets and their limits.
    link: https://developers.cloudflare.com/notifications/get-started/configure-webhooks/
"""

EXAMPLES = r"""
- name: A webhook destination with a secret
  homelab.mcp_edge.cloudflare_notification_webhook:
    name: homelab-alerts
    url: https://alerts.example.net/cloudflare
    secret: "{{ vault_notification_webhook_secret }}"
  delegate_to: localhost
  register: alerts_webhook

- name: Move it to another receiver (the secret goes with the change)
  homelab.mcp_edge.cloudflare_notification_webhook:
    name: homelab-alerts
    url: https://alerts.example.net/cloudflare/v2
    secret: "{{ vault_notification_webhook_secret }}"
  delegate_to: localhost

- name: Send a rotated secret (reports a change on every run)
  homelab.mcp_edge.cloudflare_notification_webhook:
    name: homelab-alerts
    url: https://alerts.example.net/cloudflare/v2
    secret: "{{ vault_notification_webhook_secret }}"
    update_secret: always
  delegate_to: localhost

- name: Delete the destination
  homelab.mcp_edge.cloudflare_notification_webhook:
    name: homelab-alerts
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
id:
  description: ID of the destination (what policies refer to). V(null) when it does not exist, or would be created
    in check mode.
  returned: always
  type: str
  sample: b115d5ec-15c6-41ee-8b76-92c449b5227b
webhook:
  description:
    - The destination after the task (before it, for O(state=absent)); never its secret.
    - After a create it holds the name, the URL sent and the new ID (the API answers only the ID).
  returned: always
  type: dict
  contains:
    id:
      description: Destination ID.
      type: str
    name:
      description: Name.
      type: str
    url:
      description: The URL notifications are sent to (as Cloudflare keeps it).
      type: str
    type:
      description: The kind of receiver Cloudflare detected from the URL (C(generic), C(slack), C(gchat), ...).
      type: str
  sample:
    id: b115d5ec-15c6-41ee-8b76-92c449b5227b
    name: homelab-alerts
    url: https://alerts.example.net/cloudflare
    type: generic
secret_sent:
  description: Whether the run sent O(secret) (or would, in check mode).
  returned: always
  type: bool
api_requests:
  description: Number of HTTP requests sent to the API (retries included).
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.homelab.mcp_edge.plugins.module_utils._cloudflare import CloudflareModule
from ansible_collections.homelab.mcp_edge.plugins.module_utils._notification_webhook import (
    WEBHOOK_OPTIONS,
    NotificationWebhookManager,
)


def main():
    CloudflareModule(argument_spec=dict(WEBHOOK_OPTIONS), supports_check_mode=True).run(NotificationWebhookManager)


if __name__ == "__main__":
    main()
