"""`python -m training.scan`: runs commands.scan.main."""

import sys

from commands.scan import main

if __name__ == "__main__":
    sys.exit(main())
