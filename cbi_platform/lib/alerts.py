"""Alerts: a JSON post to a webhook whose URL comes from the environment (CBI_ALERT_WEBHOOK_URL,
e.g. a Slack or Teams incoming webhook), or a log line when none is configured. The URL is a
secret (webhook URLs embed their token): it is redacted from every log line and error."""

from __future__ import annotations

import logging
import os

from cbi_platform.lib.sources.base import RetryConfig, SourceError

log = logging.getLogger("cbi_platform.alerts")
WEBHOOK_ENV = "CBI_ALERT_WEBHOOK_URL"


def send(title: str, details: dict, transport=None) -> str:
    """Deliver an alert; returns how it was delivered ('webhook' or 'log')."""
    url = os.environ.get(WEBHOOK_ENV, "").strip()
    text = f"{title}: " + "; ".join(f"{k}={v}" for k, v in details.items())
    if not url:
        log.warning("alert (no %s set): %s", WEBHOOK_ENV, text)
        return "log"
    from cbi_platform.lib.http import HttpClient

    try:
        with HttpClient("alerts", None, secrets=[url], retry=RetryConfig(max_attempts=3, base_delay=1.0),
                        transport=transport) as client:
            client.request("POST", url, json_body={"text": text, "title": title, "details": details},
                           accept_statuses=(200, 201, 202, 204))
    except SourceError as exc:
        log.error("alert could not be delivered (%s); it was: %s", exc, text)
        return "log"
    return "webhook"
