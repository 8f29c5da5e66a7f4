"""leadgate: a self-hosted lead gateway."""

__version__ = "0.1.0"
