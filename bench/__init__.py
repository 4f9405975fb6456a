"""The benchmark harness: ``python -m bench`` (``make bench``).

It seeds its own data in a throwaway database (PostgreSQL when ``DATABASE_URL`` points at one, a
temporary SQLite file otherwise), times requests through the full WSGI stack in-process, and
prints one line per measure::

    name: n=.. p50_ms=.. p95_ms=.. queries=.. ratio_p95=..

``ratio_p95`` is the measure's p95 over the p95 of ``floor_auth`` (a logged-in request to a bare
view running one indexed query) measured in the same run, so results compare across machines.
Every other line printed starts with ``#``.

Modules: ``harness`` (command line, database lifecycle, timing), ``seed`` (the data, sized by a
parameter), ``measures`` (the registry of measures), ``views``/``urls`` (the floor views, added to
the product's URLconf for the run only) and ``settings`` (the product's settings, production-like,
with the bench's overrides).
"""
