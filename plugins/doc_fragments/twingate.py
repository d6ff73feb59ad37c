# -*- coding: utf-8 -*-
# Copyright: HoneyHive
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation fragment for the Twingate GraphQL API connection options."""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - The Twingate Admin API GraphQL endpoint, C(https://<network>.twingate.com/api/graphql/).
      - If not set, the E(TWINGATE_API_URL) environment variable is used.
      - Local runs and tests point it at C(scripts/twingate_double.py), a local stand-in for
        the Twingate API that is not Twingate itself.
    type: str
    required: true
  api_token:
    description:
      - A Twingate API token, sent in the C(X-API-KEY) header. Creating connectors and
        generating their tokens needs a token with the Read, Write & Provision permission.
      - If not set, the E(TWINGATE_API_TOKEN) environment variable is used.
      - Never logged or returned.
    type: str
    required: true
  api_timeout:
    description: Seconds to wait for one HTTP response from the API.
    type: int
    default: 30
  api_retries:
    description:
      - How many times to retry a call answered with HTTP 429 or 5xx, or that failed to
        connect, with exponential backoff (a C(Retry-After) header is honoured).
      - Calls that the API rejected for any other reason are not retried.
    type: int
    default: 5
  validate_certs:
    description: Whether to verify the API's TLS certificate.
    type: bool
    default: true
notes:
  - Objects are found by name, so names must be unique among objects of the same kind
    (within a remote network for connectors and resources); the module fails, naming the
    duplicate ids, rather than guess.
  - Mutation payloads with C(ok=false) and GraphQL C(errors) fail the task with the API's
    message.
"""
