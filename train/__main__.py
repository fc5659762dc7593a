"""python -m train: same as digitcam-train."""

import sys

from train.cli import main

sys.exit(main())
