"""What every e-mail the help desk sends on its own says about itself, so no mail loop starts.

The help desk writes to people's mailboxes, and reads its own: an out-of-office answer that came
back and was answered again would go round for ever. Every message it sends is marked as
automatic (RFC 3834 ``Auto-Submitted``), which well-behaved responders and the help desk's own
mailbox reader leave alone, and asks Exchange and Outlook (``X-Auto-Response-Suppress: All``)
not to send out-of-office, read or delivery receipts back.
"""

from __future__ import annotations

__all__ = ["automatic_mail_headers"]


def automatic_mail_headers(*, replied: bool = False) -> dict[str, str]:
    """The headers that mark a message as sent by the help desk itself.

    ``replied``: the message answers mail we received (a receipt for a ticket filed by e-mail),
    ``Auto-Submitted: auto-replied``; otherwise it is a notice the help desk started
    (``auto-generated``: a new ticket for the team, an SLA alert, a page).
    """
    return {
        "Auto-Submitted": "auto-replied" if replied else "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
