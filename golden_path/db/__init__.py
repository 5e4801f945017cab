"""PostgreSQL, the system of record: schema migrations, pools and the repositories."""
