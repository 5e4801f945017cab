"""golden-path: make the golden path of an AI-agent chat product testable for real.

The package has three parts:

* ``golden_path.server``: the reference Golden Path server (protocol v1).
* ``golden_path.testing``: the pytest plugin (fixtures, markers, BVJ, services).
* ``golden_path.services``: real PostgreSQL and Redis for tests and demos.
"""

__version__ = "0.1.0"
