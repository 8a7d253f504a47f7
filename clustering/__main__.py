from __future__ import annotations

import sys

from clustering.cli import main

sys.exit(main())
