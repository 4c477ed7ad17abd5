"""`stalloc-viz` from a checkout: `.venv/bin/python tools/heapviz.py --help`.

The tool is tools/stalloc_tools/heapviz.py, shipped in the wheel as the
`stalloc-viz` command. This file runs it with the checkout's lib/ on the path, and
`import heapviz` (tools/ on sys.path, as the tests and tools/demo.py do) gives that
module itself.
"""

import os
import sys

TOOLS = os.path.dirname(os.path.abspath(__file__))
for _path in (os.path.join(os.path.dirname(TOOLS), "lib"), TOOLS):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from stalloc_tools import heapviz  # noqa: E402

if __name__ == "__main__":
    sys.exit(heapviz.main())
sys.modules[__name__] = heapviz
