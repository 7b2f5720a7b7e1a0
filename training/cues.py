"""`python -m training.cues`: runs training.assess.cues.main."""

import sys

from training.assess.cues import main

if __name__ == "__main__":
    sys.exit(main())
