"""The support desk: a pydantic-ai agent behind an AG-UI endpoint, on PostgreSQL."""
