# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start the vendor API emulator from a checkout:  python tests/emulator/serve.py --host 127.0.0.1 --port 8765

The options and the server live in scanops_emulator/cli.py, which the installed ``scanops-emulator``
command runs too; this file only puts the package on the path.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scanops_emulator.cli import main  # noqa: E402  pylint: disable=wrong-import-position

if __name__ == "__main__":
    sys.exit(main())
