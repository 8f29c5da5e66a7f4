"""``python -m bench``: run the rule-engine benchmark (see bench.run)."""

from bench.run import main

raise SystemExit(main())
