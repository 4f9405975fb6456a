# Locust drives the load on gevent, which must patch the standard library before anything else
# imports it (sockets, threads, ssl): first thing, before the harness and Django are imported.
from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from faults.harness import main  # noqa: E402

sys.exit(main())
