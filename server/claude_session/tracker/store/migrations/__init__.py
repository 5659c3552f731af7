"""Alembic migrations of the tracker's database (run by ``database.migrate``)."""
