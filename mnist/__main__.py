import sys

from mnist.cli import main

sys.exit(main())
