"""``python -m bench``: the rule-engine benchmark (see bench.run); ``python -m bench api``: the intake API's
(see bench.api); ``python -m bench files``: uploads and downloads (see bench.files); ``python -m bench
delivery``: webhook deliveries (see bench.delivery)."""

import sys

if sys.argv[1:2] == ["api"]:
    from bench.api import main

    raise SystemExit(main(sys.argv[2:]))

if sys.argv[1:2] == ["delivery"]:
    from bench.delivery import main

    raise SystemExit(main(sys.argv[2:]))

if sys.argv[1:2] == ["files"]:
    from bench.files import main

    raise SystemExit(main(sys.argv[2:]))

from bench.run import main

raise SystemExit(main())
