"""The command line's exit codes (the README's table) and the error that carries one.

Every command ends in one of these codes; a vSphere error's code follows from its category
(:class:`~wizard.vsphere.errors.ErrorCategory`), so a new error needs no new line here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wizard.vsphere.errors import VsphereError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_NOT_FOUND = 4
EXIT_REFUSED = 5
EXIT_FAILED = 6


class CliError(Exception):
    """An error for the command line: a message that says what to do, and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def error_exit(exc: VsphereError) -> int:
    """The exit code of a vSphere error, from its category (the README's table)."""
    from wizard.vsphere.errors import ErrorCategory

    return {
        ErrorCategory.USAGE: EXIT_USAGE,
        ErrorCategory.LOGIN: EXIT_CONNECTION,
        ErrorCategory.CONNECTION: EXIT_CONNECTION,
        ErrorCategory.CERTIFICATE: EXIT_CONNECTION,
        ErrorCategory.NOT_FOUND: EXIT_NOT_FOUND,
        ErrorCategory.REFUSED: EXIT_REFUSED,
        ErrorCategory.FAILED: EXIT_FAILED,
    }[exc.category]
