"""The command line: ``checkpoint-wizard`` / ``python -m wizard``.

Without a subcommand it opens the wizard in training mode on the embedded lab. Subcommands:
``check`` (the verdict for one VM or a whole inventory), ``lab`` (start the training lab),
``apply`` (apply one of the article's workarounds to a VM), ``undo`` (put back what a journal
entry changed), ``power-on`` (start a VM again that a run shut down and could not start),
``journal`` (list the change journal, dangling entries first); ``scenario`` and ``training``
(generated cases, scenario checks, the class report).

``apply`` and ``undo`` show every change (before → after) and the disruption, and ask on the
terminal unless ``--yes`` is given; without a terminal and without ``--yes`` they refuse. A
shutdown needs ``--allow-shutdown`` (or a "yes" at the prompt); a hard power-off needs
``--allow-hard-poweroff``. With ``--password-stdin`` and ``--guest-password-stdin`` together,
the first line of standard input is the vCenter password and the second the guest password.
Before changing anything, they reconcile dangling journal entries of the same vCenter.

Ctrl-C during ``apply`` or ``undo`` does not kill the run halfway: it stops at the next safe
point (before the shutdown, before the change), powers the VM on again if the run shut it down,
and says what was and was not done; once the change is sent it is too late to stop, and the run
finishes (power-on, verification) and says so.

Exit codes: 0 done (any verdict; applied, or nothing to do), 2 usage or bad input,
3 connection, login or certificate, 4 VM not found (or gone, or the name fits several VMs),
5 refused (the plan is stale, consent is missing, the fix is not available, a privilege is
missing, or stopped), 6 failed (a task error, verification failed, the VM could not be powered
on again).

One module a command, over the pieces they share:

- :mod:`~wizard.cli.dispatch`: the parser and :func:`main` (which command runs, what an error
  prints);
- :mod:`~wizard.cli.check`, :mod:`~wizard.cli.change` (``apply``, ``undo``, ``power-on``),
  :mod:`~wizard.cli.journal`, :mod:`~wizard.cli.lab`, :mod:`~wizard.cli.gui` (opening the
  wizard, ``tour``), :mod:`~wizard.cli.training` (``scenario``, ``training``): the commands;
- :mod:`~wizard.cli.exits` (exit codes, from the error's category), :mod:`~wizard.cli.options`
  (shared options and argument types), :mod:`~wizard.cli.prompts` (questions and secrets),
  :mod:`~wizard.cli.connect` (login, session, one VM), :mod:`~wizard.cli.signals` and
  :mod:`~wizard.cli.interrupts` (stopping cleanly): what they share.

Each command imports what it needs (pyVmomi, Qt) when it runs, so ``--help`` loads neither.
"""

from wizard.cli.dispatch import build_parser, main
from wizard.cli.exits import (
    EXIT_CONNECTION,
    EXIT_FAILED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
)

__all__ = [
    "EXIT_CONNECTION",
    "EXIT_FAILED",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "build_parser",
    "main",
]
