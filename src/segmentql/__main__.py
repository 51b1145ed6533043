import sys

from segmentql.cli import main

sys.exit(main())
