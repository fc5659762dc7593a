"""python -m device: same as the digitcam command."""

import sys

from device.cli import main

sys.exit(main())
