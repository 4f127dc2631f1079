"""The versioned format of ``run.json``. Readers refuse newer versions and migrate older ones (as asv does).

Version history:
  1 - first release: run.json + cases/<case_id>.json.gz (raw samples) + summary.csv
"""

from __future__ import annotations

from typing import Any, Callable

from edgebench.errors import ResultsError

SCHEMA_VERSION = 1

#: version N -> function turning a version-N document into version N+1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

#: statuses of a case in run.json
PENDING, OK, FAILED, SKIPPED, LOST = "pending", "ok", "failed", "skipped", "lost"
#: cases ``--resume`` runs again: never finished, or lost with the connection (not ones the runtime failed)
RESUMABLE = (PENDING, LOST)


def upgrade(document: dict[str, Any], source: str) -> dict[str, Any]:
    version = document.get("schema_version")
    if not isinstance(version, int):
        raise ResultsError(f"{source}: schema_version: missing or not an integer")
    if version > SCHEMA_VERSION:
        raise ResultsError(f"{source}: schema_version {version} is newer than this edgebench reads "
                           f"({SCHEMA_VERSION}); upgrade edgebench")
    while version < SCHEMA_VERSION:
        if version not in MIGRATIONS:
            raise ResultsError(f"{source}: schema_version {version} cannot be migrated")
        document = MIGRATIONS[version](document)
        version = document["schema_version"]
    return document
