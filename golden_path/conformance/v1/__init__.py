"""Protocol v1's conformance suite: each module judges a server under test (``gp_server``,
or ``--gp-url``'s deployment) by the contract alone, never by its internals."""
