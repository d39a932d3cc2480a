"""`python -m benchmarks.serving` (what `make bench-serving` runs)."""

from .run import main

raise SystemExit(main())
