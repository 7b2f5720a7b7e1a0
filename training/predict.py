"""`python -m training.predict`: runs commands.predict.main."""

import sys

from commands.predict import main

if __name__ == "__main__":
    sys.exit(main())
