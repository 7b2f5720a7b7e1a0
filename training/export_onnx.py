"""`python -m training.export_onnx`: runs training.ship.export_onnx.main."""

import sys

from training.ship.export_onnx import main

if __name__ == "__main__":
    sys.exit(main())
