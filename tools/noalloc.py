"""`stalloc-noalloc` from a checkout: `.venv/bin/python tools/noalloc.py --help`.

The tool is tools/stalloc_tools/noalloc.py, shipped in the wheel (it installs the
`stalloc-noalloc` command). This file runs it with the checkout's lib/ on the path, and
`import noalloc` (tools/ on sys.path, as the tests do) gives that module itself.
"""

import os
import sys

TOOLS = os.path.dirname(os.path.abspath(__file__))
for _path in (os.path.join(os.path.dirname(TOOLS), "lib"), TOOLS):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from stalloc_tools import noalloc  # noqa: E402

if __name__ == "__main__":
    sys.exit(noalloc.main())
sys.modules[__name__] = noalloc
