"""Allow `python -m nasops`."""

import sys

from nasops.cli.main import main

sys.exit(main())
