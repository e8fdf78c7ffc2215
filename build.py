"""Build the example site at the repository root: `python build.py` is `ssg build`."""
import sys

from ssg.cli import main

if __name__ == "__main__":
    sys.exit(main(["build", *sys.argv[1:]]))
