"""Phase 4's control: one core kept busy beside the server, by a process of its own.

Usage (``bench.load.abuse`` starts it)::

    python -m bench.load.neighbour

It prints ``ready`` once its busy thread runs, spins at the priority of the server's
password hashing (nice 10) until its stdin is closed, then prints one JSON line (the
CPU seconds it took) and exits.

Phase 4 runs the open loop beside it as well as beside the abusers. A login flood keeps
one of the server's threads hashing, so a miss could be the defences' or just one more
busy core on a small machine: ``abused / beside one busy core`` is what the abuse costs
beyond that. On the 2-vCPU machine this project is built on, the loop beside the busy
core was as fast as plain or faster, while the abused loop's p99 was 2-3x it: the cost
is Argon2's own (README, Figures).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading

from golden_path.server.auth.passwords import HASHING_NICENESS


def spin() -> None:
    if sys.platform == "linux":  # this thread only, as the server's hashing threads
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICENESS)
    while True:
        pass


def main() -> int:
    threading.Thread(target=spin, name="busy", daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()  # until the load generator closes it (or dies)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"cpu_s": round(usage.ru_utime + usage.ru_stime, 2)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
