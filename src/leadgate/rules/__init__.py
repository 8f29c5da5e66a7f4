"""The rule engine: pure Python, no Django. Decides leads against a source's rules (SPEC §1–§2)."""
