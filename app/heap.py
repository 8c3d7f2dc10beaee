"""The serving process's garbage collector (docs/architecture.md "Performance rules").

CPython's collector walks every container object it tracks on each full collection. A started
server holds about 100,000 of them (the schema, graphql-core's and Strawberry's types, the ORM's
models, the modules) that live as long as the process, and a full pass over them cost about 70 ms:
under `make bench`'s load, 39 such passes and 5,000 young ones took 3.9 s of a run's 30.6 s of
server CPU (13%), in stalls that showed as the worst latencies. Freezing what start-up built moves
it out of the collector's sight (it is never garbage), and a larger young generation lets a
request's short-lived objects die by reference counting before a pass ever sees them: the same
run then spent 0.36 s collecting.
"""

from __future__ import annotations

import gc

# Container allocations (less deallocations) between young collections; CPython's default is 700,
# a handful of requests' worth of rows and dicts that mostly die by reference counting anyway.
YOUNG_GENERATION = 7000
# Young collections between middle ones (CPython: 10): fewer promotions of objects still in use.
MIDDLE_GENERATION = 20


def settle() -> None:
    """Once start-up has built the app: what it built is collected once and frozen, and the young
    generation widened. A process that serves, not one that tests (a test session builds apps
    over and over, and freezing would keep each one's garbage for good)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION, MIDDLE_GENERATION, gc.get_threshold()[2])
