"""File-level problems: one clear message, and nothing changes (SPEC §3 "Upload Leads")."""

from __future__ import annotations


class FileError(Exception):
    """A file that cannot be taken in at all: empty, no header, binary, encrypted, corrupt, too big…

    ``code`` is stable (scripts match on it); ``message`` is one sentence a marketer can act on.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}
