"""Asking on the terminal and reading secrets from standard input.

Secrets are read, checked to be text vCenter can carry, and passed on; they are never stored,
logged or repeated in a message. The end of input at a prompt is no answer: nothing is changed.
"""

from __future__ import annotations

import getpass
import sys

from wizard.cli.exits import EXIT_REFUSED, EXIT_USAGE, CliError


def stdin_secret(what: str) -> str:
    """The next line of standard input: a password, which must be text UTF-8 can carry.

    A UTF-8 locale reads standard input strictly (bytes that are not UTF-8 raise); the C locale
    lets them through as escapes, which would reach vCenter's SOAP encoder and crash there.
    Either way: refused here, before anything is sent, without repeating what was read.
    """
    try:
        line = sys.stdin.readline()
        line.encode("utf-8")
    except UnicodeError:
        raise CliError(
            f"the {what} on standard input is not UTF-8 text, so it was not sent to vCenter "
            "and nothing was changed. Send it as UTF-8 (as a UTF-8 terminal or file holds it), "
            "one line.",
            EXIT_USAGE,
        ) from None
    return line.rstrip("\r\n")


def ask_secret(prompt: str, what: str, option: str) -> str:
    """Ask for a password on the terminal; the end of input (Ctrl-D) is no answer."""
    try:
        return getpass.getpass(prompt)
    except EOFError:
        print(file=sys.stderr)  # the prompt's line was left open
        raise CliError(
            f"no {what} was typed (the input ended at the prompt); nothing was changed. "
            f"Type the {what} at the prompt, or send it with {option}.",
            EXIT_USAGE,
        ) from None


def ask(prompt: str) -> str:
    """Ask a yes/no question on the terminal; the end of input (Ctrl-D) refuses."""
    try:
        return input(prompt)
    except EOFError:
        print(file=sys.stderr)  # the question's line was left open
        raise CliError(
            "no answer (the input ended at the question), so nothing was changed. Run the "
            "command again and answer y or n, or review the changes with 'check' and add --yes.",
            EXIT_REFUSED,
        ) from None
