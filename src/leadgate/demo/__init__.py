"""The demo: a realistic event source and the lead generator it shares with the benchmarks.

``generator`` is pure Python (no Django), so benchmarks and tests can use it on their own;
``services.build_demo`` puts its leads into a "Demo Summit" source.
"""
