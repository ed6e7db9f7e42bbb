"""`python -m karyo` runs the karyo command."""

import sys

from karyo.cli import main

if __name__ == "__main__":
    sys.exit(main())
