# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026 homelab.mcp_edge contributors

from __future__ import annotations


class ModuleDocFragment:
    # The rule lists of an Access policy or group (plugins/module_utils/_access_rules.py).
    DOCUMENTATION = r"""
options:
  include:
    description:
      - Rules of which at least one must match (OR). Required, with at least one rule, when the object is created.
      - >-
        Each rule is a mapping with one key. Friendly form
        C(email: ADDRESS), C(email_domain: DOMAIN), C(everyone: true), C(geo: COUNTRY) (two letters, for example
        C(US)), C(ip: CIDR) (a single address is taken as C(/32) or C(/128)), C(service_token: NAME),
        C(any_valid_service_token: true), C(group: NAME), C(login_method: IDP NAME),
        C(auth_method: mfa), C(email_list: LIST ID), C(ip_list: LIST ID), C(common_name: CN), C(certificate: true),
        C(github-organization: {name: ORG, team: TEAM, identity_provider: IDP NAME}).
      - >-
        A friendly value can be a list, which expands into one rule per item in place
        (C(email: [a@example.com, b@example.com])).
      - C(service_token), C(group) and C(login_method) take a name (or an ID); an unknown name fails and
        the error lists the names that exist.
      - >-
        The API form (C({email: {email: me@example.com}}), C({okta: {name: ..., identity_provider_id: ...}}) ...)
        is accepted for every rule type and passed through as given.
      - Rules are compared in order, as Cloudflare keeps them.
      - When left out, the existing rules are kept.
    type: list
    elements: dict
  require:
    description:
      - Rules that must all match (AND), in the same forms as O(include).
      - When left out, the existing rules are kept; V([]) removes them.
    type: list
    elements: dict
  exclude:
    description:
      - Rules none of which may match (NOT), in the same forms as O(include).
      - When left out, the existing rules are kept; V([]) removes them.
    type: list
    elements: dict
"""
