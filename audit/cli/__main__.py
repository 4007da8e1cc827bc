"""`python -m audit.cli`: the same as the `govaudit` command."""
import sys

from audit.cli import main

sys.exit(main())
