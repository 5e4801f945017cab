"""The golden path under load, on Locust: ``golden-path load`` (docs/load.md).

Locust brings the distribution (a master and workers, on one machine or many), the web
UI, the HTML and CSV reports and the CI exit code; golden-path brings the golden path and
its own contract checkers. Each simulated user signs in, sends a message, reads the run's
events to its end (a share of the runs drop their connection mid-run and resume), checks
them with the harness's checker of that protocol, and reports to Locust:

* the run, timed to its completed event (a violation of the contract is a Locust failure
  named by its rule: ``contract: seq_gap``, never just a latency sample);
* the time to its first event and the largest gap between two of its events.

The modules, each with one job:

* ``auth``: who a simulated user is (protocol v1's signup, login and upgrade, or a team's
  login hook);
* ``tokens`` and ``jwt_settings``: tokens minted from the project's ``gp_jwt_*`` settings
  (``--tokens gp_jwt``): the signing, in Locust's processes, and the ini read, in the
  command's;
* ``scenarios``: the ``--mix`` of golden, dropped-for-good and slow-reader runs, and the
  check of a dropped run in the server's history;
* ``timing``: a run's events as they arrived, and the three figures read from them;
* ``sse``: Server-Sent Events decoded from a streamed HTTP body;
* ``v1_run`` and ``agui_run``: one golden-path run of each protocol, checked;
* ``locustfile``: the Locust users, their options, the progress line and the CI gate (the
  only module that imports Locust);
* ``gate``: the JSON summary and the exit status, from Locust's merged statistics;
* ``preflight``: an unreachable URL, or a server of another protocol, named in one line
  before any process starts;
* ``command``: ``golden-path load`` itself, Locust's master and workers as processes.

Why these clients: Locust runs every simulated user as a greenlet and monkeypatches the
standard library's sockets with gevent's, so only blocking clients built on the standard
``socket`` module cooperate. asyncio clients (``websockets``, ``httpx``'s async client,
the harness's own ``golden_path.client``) would block the whole worker on their own event
loop. So protocol v1's socket is ``websocket-client`` (blocking, on ``socket``: each
``recv`` yields to the other users), and HTTP, AG-UI's SSE stream included, goes through
Locust's own ``HttpUser`` session (``requests``, whose ``stream=True`` body is read
chunk by chunk as the server flushes it), which also puts every HTTP call in Locust's
statistics. Everything but ``locustfile`` is plain blocking code: the preflight and the
unit tests run it without gevent.

May import: the harness's contract checkers (``golden_path.testing.v1.contract``,
``golden_path.testing.agui.contract``, ``golden_path.testing.violation``), its token
signing (``golden_path.testing.identity.jwt_factory`` and ``keys``: PyJWT only, no pytest
fixture) and, in the command's process only, its ini defaults
(``golden_path.testing.options``),
``golden_path.protocol`` and ``golden_path.tiers``. Never the reference server or the
services: any server that speaks the protocol is loaded alike. And nothing under
``golden_path.testing`` or the pytest plugin ever imports this package: Locust patches the
standard library with gevent on import.
"""
