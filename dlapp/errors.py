"""Errors dlapp raises on purpose: each message is one sentence a person can act on."""


class DlappError(Exception):
    """Base class: the message says what went wrong and what to do about it."""


class DatasetUnavailable(DlappError):
    """A full dataset could not be downloaded (offline, firewall, DNS)."""


class EmptyCanvas(DlappError):
    """The canvas holds no ink (or too little to be a digit)."""


class ModelRejected(DlappError):
    """An uploaded or stored model file cannot be used (unsafe, corrupt, wrong shape)."""


class StoreError(DlappError):
    """The run store cannot be read or written (read-only, full, corrupt)."""


class InvalidName(DlappError, ValueError):
    """A person-typed name (run name, tag) breaks the name rule: too long, several lines, or blank."""


def one_line(exc: BaseException) -> str:
    """The error as one line a person can read: type and message, newlines folded, length capped.

    dlapp's own errors are already a sentence for a person, so they go without their type name.
    """
    text = " ".join(str(exc).split()) or "no detail"
    return (text if isinstance(exc, DlappError) else f"{type(exc).__name__}: {text}")[:500]
