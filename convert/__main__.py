"""python -m convert: same as digitcam-convert."""

import sys

from convert.cli import main

sys.exit(main())
