"""The moderation workflow's storage: every recorded prediction, the review queue, feedback, the audit log and
role-bearing API keys, in SQLite (embedded default) or PostgreSQL (``NLPC_DATABASE_URL``).

``db`` opens the database and runs the Alembic migrations shipped in ``migrations/``; ``models`` holds the tables;
``records``, ``reviews``, ``stats``, ``feedback``, ``keys`` and ``retention`` are the repository functions (each
takes a SQLAlchemy ``Session`` and leaves committing to its caller unless it says otherwise); ``writer`` records
predictions from a background thread so that serving never waits on the database."""
