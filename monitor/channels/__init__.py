"""Delivery channels: where a written digest is sent, one module per channel behind one small
interface (``Channel``). ``configured`` turns the ``digest:`` settings into the channels to send
to; ``monitor.deliver`` sends through each on its own, so one failing loses no other.

Adding a channel: a module with a class that has ``label`` and ``send``, its settings in
``monitor.settings`` and ``sources.yaml``, and a line in ``configured``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from monitor.formats import View
    from monitor.models import Digest
    from monitor.settings import SmtpSettings, Webhook


class Channel(Protocol):
    @property
    def label(self) -> str:
        """What a failure message calls it: "e-mail", "webhook"."""
        ...

    def send(self, digest: Digest, view: View, env: Mapping[str, str]) -> None:
        """Send ``digest`` as ``view`` says. Raises DeliveryError naming what failed; secrets
        come from ``env``."""
        ...


def configured(email: SmtpSettings | None, webhooks: Sequence[Webhook]) -> list[Channel]:
    """The channels the settings name, e-mail first. Each imports its library when built."""
    found: list[Channel] = []
    if email is not None:
        from monitor.channels.email import EmailChannel

        found.append(EmailChannel(email))
    if webhooks:
        from monitor.channels.webhook import WebhookChannel

        found.extend(WebhookChannel(hook) for hook in webhooks)
    return found
