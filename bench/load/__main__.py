"""``python -m bench.load`` (from the repository's root): run the benchmark."""

import sys

from bench.load.cli import main

if __name__ == "__main__":
    sys.exit(main())
