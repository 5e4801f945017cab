"""Who a test acts as: users made through the server's own HTTP API (``users``) and tokens
signed like the team's server signs them, or tampered with (``jwt_factory``).

May import: the HTTP client (``golden_path.client``), identifiers and the token codec.
Never the services, a server under test, a protocol contract or the report.
"""
