"""`python -m training.evaluate`: runs training.assess.evaluate.main."""

import sys

from training.assess.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
