"""The days of the week, once: full names (``monday``…) and cron's short ones (``mon``…),
Monday first, as ``date.weekday()`` counts them."""

from __future__ import annotations

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAYS = tuple(name[:3] for name in DAY_NAMES)
