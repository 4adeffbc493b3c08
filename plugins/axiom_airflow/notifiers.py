"""Alert channels through Airflow's notifier interface: ``WebhookNotifier`` (``AXIOM_ALERT_WEBHOOK``), and any
other ``BaseNotifier`` named in ``AXIOM_ALERT_NOTIFIERS`` — Slack's, SMTP's — so providers plug in unchanged.

``AXIOM_ALERT_NOTIFIERS`` is a JSON object: channel name -> {"class": dotted path, "kwargs": {...}}. Each
notifier's template fields are rendered with the alert's context: ``signal`` (every field), ``signal_id``
and ``text`` (one line to read), e.g. ``{"mail": {"class": "airflow.providers.smtp.notifications.smtp.SmtpNotifier",
"kwargs": {"to": "desk@example.com", "subject": "Axiom: {{ text }}", "html_content": "{{ text }}"}}}``.
"""

from __future__ import annotations

import importlib
import json
import os

from airflow.sdk.bases.notifier import BaseNotifier

from axiom import delivery


class WebhookNotifier(BaseNotifier):
    """POST each alert as JSON to ``url`` (``axiom.delivery.post_webhook``)."""

    template_fields = ("url",)

    def __init__(self, url: str, *, timeout_seconds: float = 10.0):
        super().__init__()
        self.url = url
        self.timeout_seconds = timeout_seconds

    def notify(self, context) -> None:
        delivery.post_webhook(self.url, context["signal"], timeout_seconds=self.timeout_seconds)


def _notifier_class(path: str) -> type[BaseNotifier]:
    module, _, name = path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"AXIOM_ALERT_NOTIFIERS: cannot import {path!r}: {exc}") from exc
    if not (isinstance(found, type) and issubclass(found, BaseNotifier)):
        raise ValueError(f"AXIOM_ALERT_NOTIFIERS: {path!r} is not an Airflow notifier (BaseNotifier)")
    return found


def _sender(make) -> delivery.Send:
    """Send one signal through a fresh notifier (rendering its templates changes it in place)."""

    def send(signal: dict) -> None:
        body = delivery.payload(signal)
        make()({"signal": body["signal"], "signal_id": body["id"], "text": body["text"]})

    return send


def channels(env=os.environ, params: delivery.DeliveryParams | None = None) -> dict[str, delivery.Send]:
    """The configured channels by name (none configured: an empty dict); a bad configuration is a ValueError."""
    params = params or delivery.DeliveryParams.from_env(env)
    found = {}
    if url := env.get("AXIOM_ALERT_WEBHOOK", "").strip():
        found[delivery.WEBHOOK] = _sender(lambda: WebhookNotifier(url, timeout_seconds=params.timeout_seconds))
    if text := env.get("AXIOM_ALERT_NOTIFIERS", "").strip():
        try:
            configured = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"AXIOM_ALERT_NOTIFIERS is not JSON: {exc}") from exc
        if not isinstance(configured, dict):
            raise ValueError("AXIOM_ALERT_NOTIFIERS must be a JSON object: name -> {class, kwargs}")
        for name, spec in configured.items():
            if name in found or not isinstance(spec, dict) or not isinstance(spec.get("kwargs", {}), dict):
                raise ValueError(f"AXIOM_ALERT_NOTIFIERS: channel {name!r} needs a unique name, a class and kwargs")
            cls, kwargs = _notifier_class(str(spec.get("class", ""))), spec.get("kwargs", {})
            found[name] = _sender(lambda cls=cls, kwargs=kwargs: cls(**kwargs))
    return found
