"""`pejling run` loads what a bot needs, not what exports, letters, charts or the demo need.

An idle bot keeps every module it imported in memory for as long as it runs (issue 9:
the idle footprint), so the heavy libraries load only in the command or handler that
uses them.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Each weighs megabytes and is used only by an export, a letter, a chart or the demo.
HEAVY = ("matplotlib", "xlsxwriter", "reportlab", "pandas", "qrcode", "rich", "openpyxl", "PIL")

# What `pejling run` imports before it serves: the console command with every
# subcommand registered, then the composition root with all its routers.
SCRIPT = """
import json, sys
from bot import cli
cli.build_parser()
import bot.app
print(json.dumps(sorted(sys.modules)))
"""


def test_the_bot_process_does_not_load_the_export_letter_or_demo_libraries() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(done.stdout))
    # The modules that use the heavy libraries are themselves loaded, so the check covers
    # their imports (a module left out of the bot would pass it for the wrong reason).
    assert {"bot.routers.export", "bot.cli.export", "bot.cli.people_files"} <= loaded
    heavy = sorted(name for name in loaded if name.split(".")[0] in HEAVY)
    assert heavy == []
