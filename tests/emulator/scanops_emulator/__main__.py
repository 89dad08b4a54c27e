# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""python -m scanops_emulator: the same command as scanops-emulator and serve.py."""

import sys

from .cli import main

sys.exit(main())
