"""The benchmark harness: ``python -m bench`` (``make bench``).

It seeds its own data in a throwaway database (PostgreSQL when ``DATABASE_URL`` points at one, a
temporary SQLite file otherwise), times requests through the full WSGI stack in-process, and
prints one line per measure::

    name: n=.. p50_ms=.. p95_ms=.. queries=.. ratio_p95=..

``ratio_p95`` is the measure's p95 over the p95 of ``floor_auth`` (a logged-in request to a bare
view running one indexed query) measured in the same run, so results compare across machines.
Every other line printed starts with ``#``.

Background work is measured too: ``sla_sweep_idle`` and ``sla_sweep_breach_1000`` call the SLA
sweep at the instant the data was made for (``--grow-from`` times them at two history sizes), and
``page_latency`` files an ED P1 through the form with a real Celery worker on Redis delivering the
page to a local webhook receiver (PostgreSQL and Redis only; skipped with a ``#`` line otherwise).

Modules: ``harness`` (command line, database lifecycle, timing), ``seed`` (the data, sized by a
few parameters), ``ticketgen`` (which tickets are open, at risk or due, and each ticket's rows,
SLA clocks included), ``bulk`` (COPY on PostgreSQL), ``measures`` (the registry of measures),
``worker`` (the broker choice and the Celery worker subprocess), ``receiver`` (the webhook
receiver), ``views``/``urls`` (the floor views, added to the product's URLconf for the run only)
and ``settings`` (the product's settings, production-like, with the bench's overrides).
"""
