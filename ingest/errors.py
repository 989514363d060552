"""Errors a user's file can cause; each carries a plain reason shown next to the path."""


class DocumentError(Exception):
    """A file that cannot be indexed (empty, binary, corrupt, protected, too large…)."""
