"""Authentication: password hashing, JWTs, refresh-token families, denials and tickets."""
