"""`python -m training.crops`: runs training.data.crops.main."""

import sys

from training.data.crops import main

if __name__ == "__main__":
    sys.exit(main())
