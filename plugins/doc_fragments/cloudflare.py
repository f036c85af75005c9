# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors

from __future__ import annotations


class ModuleDocFragment:
    # Options every homelab.mcp_edge.cloudflare_* module takes (see plugins/module_utils/_cloudflare.py).
    DOCUMENTATION = r"""
requirements:
  - requests (the Python library, on the controller, where the modules run; C(requirements.txt) installs it)
options:
  api_token:
    description:
      - Cloudflare API token, sent in the C(Authorization) header as a Bearer token.
      - The preferred way to authenticate. Give it the least privileges the module needs
        (for example C(Zone:DNS:Edit) for DNS records, C(Account:Cloudflare Tunnel:Edit) for tunnels).
      - When both O(api_token) and O(api_key) are available, the token is used.
      - If not set, the value of the E(CLOUDFLARE_API_TOKEN) environment variable is used.
    type: str
  api_email:
    description:
      - E-mail address of the Cloudflare user, for the legacy global API key (O(api_key)).
      - If not set, the value of the E(CLOUDFLARE_EMAIL) environment variable is used.
    type: str
  api_key:
    description:
      - Legacy global API key, sent with O(api_email). Prefer O(api_token).
      - If not set, the value of the E(CLOUDFLARE_API_KEY) environment variable is used.
    type: str
  api_base_url:
    description:
      - Base URL of the Cloudflare API v4.
      - Change it only to point the modules at a proxy or at a local API emulator in tests.
      - If not set, the value of the E(CLOUDFLARE_API_BASE_URL) environment variable is used,
        else the default.
    type: str
    default: https://api.cloudflare.com/client/v4
  account_id:
    description:
      - Cloudflare account ID, for account-scoped resources (tunnels, Zero Trust Access).
      - If not set, the value of the E(CLOUDFLARE_ACCOUNT_ID) environment variable is used; modules
        that also know a zone take the zone's account; otherwise the only account the credentials
        can see is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the API's TLS certificate. Leave it on except for a test emulator.
      - The certificate is checked against the file named by E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) when
        one is set, else against the system's CA store (as Python's C(ssl) finds it, E(SSL_CERT_FILE) included).
    type: bool
    default: true
  timeout:
    description:
      - Socket timeout in seconds for each API request (to connect, and between bytes of the answer).
    type: int
    default: 30
  max_retries:
    description:
      - How many times one API request is retried after HTTP 429 (rate limited), a 5xx answer or a
        dropped connection. Retries wait with jittered exponential back-off (0.5 s doubling up to
        8 s), or as long as the C(retry-after) header asks (at most 60 s per wait).
      - A write that may already have been applied (for example a create answered by a 5xx) is never
        re-sent blindly; the module looks at the current state first, so a retry cannot create a duplicate.
      - If not set, the value of the E(CLOUDFLARE_MAX_RETRIES) environment variable is used, else the default.
    type: int
    default: 8
  max_retry_wait:
    description:
      - Upper bound in seconds on the total time one module run spends waiting between retries.
      - If not set, the value of the E(CLOUDFLARE_MAX_RETRY_WAIT) environment variable is used, else the default.
    type: int
    default: 120
notes:
  - All C(homelab.mcp_edge.cloudflare_*) modules belong to the action group C(homelab.mcp_edge.cloudflare), so
    O(api_token), O(account_id) and the other common options can be set once with
    C(module_defaults) and the group name C(group/homelab.mcp_edge.cloudflare).
  - The modules talk to the API from where they run; run them on the controller
    (C(delegate_to=localhost) or a play on C(localhost)), whose Python needs the C(requests) library.
  - One connection is kept alive for all the requests of a task. A proxy is taken from the standard
    environment variables (E(HTTPS_PROXY), E(HTTP_PROXY), E(NO_PROXY)), credentials in its URL included.
  - The credentials are never logged or returned. Errors name Cloudflare's error codes and messages.
seealso:
  - name: Cloudflare API documentation
    description: The Cloudflare API v4 reference.
    link: https://developers.cloudflare.com/api/
"""

    # Fragment for modules that accept a zone.
    ZONE = r"""
options:
  zone:
    description:
      - Name of the zone (domain), for example C(example.com). Looked up once per task.
      - One of O(zone) and O(zone_id) is required.
    type: str
  zone_id:
    description:
      - ID of the zone; saves the zone lookup.
    type: str
"""

    # For modules that work in an account and can take a zone to find it.
    ACCOUNT_ZONE = r"""
options:
  zone:
    description:
      - A zone of the account; used only to find the account when O(account_id) is not set.
    type: str
"""

    # Attributes shared by the cloudflare_* modules; each module adds its own `support:` values.
    ATTRIBUTES = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it would have, without writing anything.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) when in diff mode.
  idempotent:
    description:
      - When run twice in a row with the same options, the second run reports no change and makes no write.
  action_group:
    description: Use C(group/homelab.mcp_edge.cloudflare) in C(module_defaults) to set the common options once.
    support: full
    membership:
      - homelab.mcp_edge.cloudflare
"""

    # For modules that change state with full check mode, diff mode and idempotence, together with ATTRIBUTES.
    FULL_SUPPORT = r"""
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
"""

    # For read-only modules, together with ATTRIBUTES.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
"""
