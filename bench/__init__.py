"""The project's benchmarks, run from the repository's root.

* ``python -m bench.load``: the golden path under load against ``golden-path serve``
  (latency, saturation, throughput, held connections) and the floor beside it;
* ``python -m bench.services``: the embedded services (cold start, stop, template clone);
* ``python -m bench.agui_corpus PATH``: AG-UI's official conformance streams (a fetched
  copy of ``spec/1.1/conformance/streams``) judged by the AG-UI checker.
"""
