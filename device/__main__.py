"""python -m device: same as the digitcam command."""

import sys

from device.cli import main

if __name__ == "__main__":  # not when a worker process re-imports this module
    sys.exit(main())
