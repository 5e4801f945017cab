"""Benchmark the golden path end to end: run latency, throughput, held connections, and the floor.

Usage, from the repository's root::

    python -m bench.load [--url http://host:port] [--users N=20] [--rate R=100]
                         [--messages M=25] [--connections C=500] [--warmup W=3]
                         [--no-abuse] [--abuse-rate R4]

Without ``--url`` it starts ``golden-path serve`` as a separate process (its own GIL,
its own embedded PostgreSQL and Redis, every setting at its default: strong password
hashing, every throttle, 127.0.0.1 alone exempt from the signup and login throttles, for
Locust's users) on a free port of 127.0.0.1, and stops it with SIGTERM at the end,
whatever happens. Each of this process's users signs up from a loopback address of its
own (127.0.1.0 and on), as real users do not share one, so the per-address throttles
stay at their defaults.

A run's latency is from sending its ``user_message`` to receiving its ``agent_completed``
(matched by ``request_id``). The phases, in order, each in its own module:

* ``latency``, phase 1a (open loop; the latency targets are judged on it): N users on a
  fixed schedule of R messages/s in total, after the service time of one user alone;
* ``saturation``, phase 1b (closed loop, on Locust): N of the project's Locust users
  (``golden-path load``), each sending again as soon as its run ends: queueing at
  saturation (Little's law), not the latency a user sees;
* ``throughput``, phase 2 (closed loop, on Locust): 2N/4 to 4N Locust users, one run in
  flight each, a load of its own per step; the best step is the sustained maximum;
* ``connections``, phase 3: C sockets held at once, every event reaching every socket;
* ``abuse``, phase 4 (``--no-abuse`` skips it): an open loop of the N users, plain, then
  again while a process of its own (``abuser``) runs a slow reader (a socket that never
  reads, sending ``resume`` and ``ping`` within their allowances) and a login flood with
  wrong passwords (50/s from 8 addresses of 127.0.0.x). Both loops run at 40% of the max
  sustained throughput of phase 2 (``--abuse-rate`` to choose), where the server has
  headroom: at saturation any extra work makes a queue. Everybody else's p50/p99 must
  stay within 2x of the plain loop's; the server's peak RSS is printed; nothing may be
  lost;
* ``delivery``, after every phase of this process: ``lost``, ``duplicated``,
  ``misdelivered`` and ``failed runs`` must all be 0, otherwise the exit status is 1 (the
  Locust phases' failed requests and contract violations count as failed runs);
* the floor: ``echo`` (a bare WebSocket echo on the same stack, in its own process) and
  ``writes`` (one run's PostgreSQL writes, issued directly through the server's own
  functions on an embedded PostgreSQL of their own). floor = echo p50 + writes median.

Where Locust fits, and where it does not. The load generation is Locust's
(``golden_path.load``, through ``locust``) where the load is a closed loop at a given
number of users, which is what a Locust user is: phases 1b and 2; every run is then also
checked by the contract checker, and the load could come from several machines. The
rest stays in this process, on purpose:

* phase 1a and phase 4 are open loops: each user sends on a schedule fixed in advance,
  whether or not its earlier runs have ended (several in flight per user), and a send
  more than 5 ms late is counted, to tell a generator that fell behind. A Locust user's
  task waits for its run (``constant_throughput`` paces the next task, it cannot send
  while a run is in flight), and the schedule's lateness would be gevent's, unmeasured;
* phase 3 holds C sockets of a few users at once and compares what every socket
  received with what the server stored for its user (``delivery``): one process must
  see every socket, where a Locust user has one connection and one run at a time;
* the floors are not the golden path: a bare echo on the same stack, and the server's
  PostgreSQL writes called in process, timed to the microsecond.

Each phase's CPU row (``cpu``) shows the load generator beside the server: this process
for its own phases, Locust's master and workers (summed from their processes) for phases
1b and 2, with the CPU each spent per run. A generator near 100% of a core, or costing
more per run than the server, bounds the figures: it is seen, not mistaken for a slow
server. Locust's users sign up from 127.0.0.1: a server started here exempts only that
address from the signup and login throttles; a server given with ``--url`` must too
(``GOLDEN_PATH_THROTTLE_EXEMPT=127.0.0.1/32``).

The rest: ``server`` (the server under test, started in one place), ``sockets`` (users
and their sockets), ``runs`` (one timed run), ``cpu`` (CPU per process kind over a
phase, from /proc: 100% is one core), ``progress`` (stderr), ``stats``, ``report`` and
``render`` (the table on stdout), ``processes`` (signals and stops), ``settings`` and
``cli``; ``locust`` runs ``golden-path load`` for phases 1b and 2.

Targets: p50 ≤ 10 ms and p99 ≤ 50 ms at 20 concurrent users (phase 1a, open loop, at
the default 100 messages/s), ≥ 250 runs/s from one server process (max sustained,
phase 2), 500 open connections held with nothing lost (phase 3); a missed target is
reported, not an error. Exit status: 0, 1 (a correctness count is not 0), 2 (the
benchmark could not run), 130 (interrupted). Every process started is stopped, also on
Ctrl-C or SIGTERM.
"""
