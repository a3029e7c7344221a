"""`/health`: is the database reachable and migrated, is object storage writable."""
