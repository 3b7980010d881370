import sys

from sandbox.tools.cli import main

sys.exit(main())
