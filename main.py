"""Open MahlerNet Studio: ``python main.py [FILE.mid]``; ``python main.py --help`` for the options.

The command line for everything else is the ``mahlernet`` console script (``core/cli``).
"""

import sys

from app.main import main

if __name__ == "__main__":
    sys.exit(main())
