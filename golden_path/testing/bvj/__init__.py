"""Why each test exists and what the run proved: Business Value Justifications
(``justification``), their pytest hooks (``hooks``), the report (``report``, written by
``report_files``, drawn by ``report_html``), the merge of CI shards (``report_merge``)
and the gate: flaky tests under pytest-rerunfailures and their JUnit ``<flakyFailure>``
(``report_flaky``), the quarantine (``report_quarantine``), the value at risk
(``report_risk``), the history of runs (``report_history``), their settings and gate
problems (``report_gate``), their hooks (``gate_hooks``) and their part of the page
(``report_html_gate``, ``report_svg``).

May import: the harness's ``options`` and ``markers``. Never services, servers or
protocols: the report reads only what pytest tells it.
"""
