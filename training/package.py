"""`python -m training.package`: runs training.ship.package.main."""

import sys

from training.ship.package import main

if __name__ == "__main__":
    sys.exit(main())
