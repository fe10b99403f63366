"""Slack adapter (slack-bolt): ``SlackAdapter`` in ``app.py``, the manifest in ``manifest.py``.

The composition root needs ``check_settings`` (start-up errors that name the variable),
``adapters.slack.app.SlackAdapter`` and ``adapters.slack.manifest.build_manifest``.
"""

from adapters.slack.config import check_settings

__all__ = ["check_settings"]
