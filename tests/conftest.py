"""Test session set-up: one real PostgreSQL database per test session.

Without DATABASE_URL, an embedded pgserver (PostgreSQL 16 + pgvector) starts in a temporary
folder; with DATABASE_URL, a fresh database is created on that server and dropped afterwards.
Fixture modules live in tests/fixtures/, one per room.
"""

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.regions",
    "tests.fixtures.demo",
    "tests.fixtures.warehouse",
]


def pytest_collection_modifyitems(items):
    """Tests that compare marts with their sources run first, before other tests add rows to the shared
    session database (they would still pass later: `marts_fresh` rebuilds when a source changed)."""
    items.sort(key=lambda item: 0 if "marts_fresh" in getattr(item, "fixturenames", ()) else 1)
