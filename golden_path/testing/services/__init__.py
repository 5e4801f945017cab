"""Real services for a run: PostgreSQL and Redis started once and supervised (``shared``),
the team's schema migrated into a template (``schema``), and the run's session handed to
xdist workers (``session``).

May import: ``golden_path.services`` (the providers), ``golden_path.db`` (migrations) and
the harness's ``options``. Never a server under test, a protocol or the report.
"""
