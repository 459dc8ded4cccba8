"""`python -m bot.cli ...`: the `pejling` command, for a process started by Python itself."""

import sys

from bot.cli import main

sys.exit(main())
