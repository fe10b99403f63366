"""The core's typed refusals: how a handler says no.

A handler never builds an error reply itself: it raises. ``App`` turns every ``Refusal`` into
the member's private error reply (message, hint as small print, the option at fault so that a
form can show it on that field) and any other exception into the OOPS reply, logged once. So a
refusal never leaves the core; nothing is written when one is raised before a write.
"""

from __future__ import annotations


class Refusal(Exception):
    """The core won't do what was asked, for a reason the member can act on: not an admin,
    nothing to undo, not their button, the hourly limit. ``str(err)`` is the message shown."""

    def __init__(self, message: str, hint: str | None = None, option: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.option = option


class Unavailable(Exception):
    """Something the bot stands on (its database server) can't be reached right now. Storage
    raises it for a lost or refused connection; the core answers with ``UNAVAILABLE`` and logs
    the outage through an ``OutageLog`` rather than a traceback per command."""
