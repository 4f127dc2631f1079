"""Errors that end up in front of a user as one clear line."""

from __future__ import annotations


class EdgebenchError(Exception):
    """Base class: the message is a complete, one-line explanation for the user."""


class ConfigError(EdgebenchError):
    """A suite or profile is malformed. The message names the file and the key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


class ModelError(EdgebenchError):
    """A model file is missing, corrupt or does not match its checksum."""


class ModelMismatchError(ModelError):
    """At run time, a model file is not the bytes the run planned (its sha256 differs): raised in the worker,
    and recognised by its name in the failed case's error by transports that can send the model again."""


class ResultsError(EdgebenchError):
    """A run directory cannot be read or written."""
