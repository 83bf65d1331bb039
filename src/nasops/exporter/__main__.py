"""`python -m nasops.exporter`: the exporter's command group alone (what the NAS runs)."""

import sys

from nasops.cli.exporter import standalone_main

sys.exit(standalone_main())
