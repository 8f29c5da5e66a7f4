"""The peer's one app: the ``Lead`` model and its import-export resource."""
