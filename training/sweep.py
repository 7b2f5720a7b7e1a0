"""`python -m training.sweep`: runs training.assess.sweep.main."""

import sys

from training.assess.sweep import main

if __name__ == "__main__":
    sys.exit(main())
