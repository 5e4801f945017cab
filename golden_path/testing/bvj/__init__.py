"""Why each test exists and what the run proved: Business Value Justifications
(``justification``), their pytest hooks (``hooks``), the report (``report``, written by
``report_files``, drawn by ``report_html``), the merge of CI shards (``report_merge``)
and the gate.

May import: the harness's ``options`` and ``markers``. Never services, servers or
protocols: the report reads only what pytest tells it.
"""
