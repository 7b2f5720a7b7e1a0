"""`python -m training.fetch_weights`: runs training.ship.fetch_weights.main."""

import sys

from training.ship.fetch_weights import main

if __name__ == "__main__":
    sys.exit(main())
