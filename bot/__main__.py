"""``python -m bot`` is the same as ``whosnext``."""

import sys

from bot.cli import main

sys.exit(main())
