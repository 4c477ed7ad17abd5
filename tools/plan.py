"""`stalloc-plan` from a checkout: `.venv/bin/python tools/plan.py --help`.

The tool is tools/stalloc_tools/plan.py, shipped in the wheel as the
`stalloc-plan` command. This file runs it with the checkout's lib/ on the path, and
`import plan` (tools/ on sys.path, as the tests and tools/demo.py do) gives that
module itself.
"""

import os
import sys

TOOLS = os.path.dirname(os.path.abspath(__file__))
for _path in (os.path.join(os.path.dirname(TOOLS), "lib"), TOOLS):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from stalloc_tools import plan  # noqa: E402

if __name__ == "__main__":
    sys.exit(plan.main())
sys.modules[__name__] = plan
