"""`python -m training.synthetic`: runs training.data.synthetic.main."""

import sys

from training.data.synthetic import main

if __name__ == "__main__":
    sys.exit(main())
