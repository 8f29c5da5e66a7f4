"""leadgate's benchmarks.

``python -m bench`` (``make bench``) generates realistic event leads, times the rule engine on them against
``polars.read_csv`` (the floor), Frictionless (the peer) and a naive per-row loop, and writes the figures to
docs/benchmarks.md. ``leadgate.demo.generator`` is the lead generator (shared with the demo source);
``bench.rules`` is the default rule set those leads are checked against.
"""
