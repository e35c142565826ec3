"""The words of a generated case: its title, briefing and ticket, written from what was drawn
(:mod:`wizard.lab.generate`)."""

from __future__ import annotations

import random
import unicodedata

from wizard.kb.model import Verdict
from wizard.lab.case_parts import BEG, INT, SCREEN_NAMES, SMALL, CaseDraft


class Story:
    """The title, briefing and ticket of a case, written from what was drawn."""

    def __init__(self, d: CaseDraft, verdict: Verdict) -> None:
        self.d = d
        self.rng = random.Random(f"words {d.level.value} {d.seed}")  # noqa: S311 (seeded words)
        self.failed = verdict is Verdict.CONFIRMED
        self.first = d.reporter.split()[0]

    def title(self) -> str:
        return f"Case {self.d.seed}: {self.d.vm.name}"

    def briefing(self) -> str:
        d = self.d
        base = (
            f"Find {d.vm.name}, decide which verdict the article's four conditions give it, "
            "and fix it only if it needs a fix, with as little disruption as you can."
        )
        if d.level is BEG:
            return base
        if d.level is INT:
            return base + " Some details in this cluster look important and are not: check each."
        return (
            base + " Not everything here is what it seems, and the account you sign in with may "
            "not be allowed every fix: plan what you cannot do yourself."
        )

    def _screens_sentence(self) -> str:
        vm = self.d.vm
        screen = vm.user_screen
        if vm.auto_detect or screen is None or (vm.displays < 2 and screen in SMALL):
            return ""
        shown = SCREEN_NAMES[screen]
        if vm.displays >= 2:
            count = {2: "two", 3: "three"}.get(vm.displays, str(vm.displays))
            return self.rng.choice(
                (
                    f"I work with {count} {shown} monitors and need all of them.",
                    f"My desk has {count} screens ({shown}), please keep them as they are.",
                    f"I use {count} monitors for my work.",
                )
            )
        return self.rng.choice(
            (
                f"I use one big {shown} screen.",
                f"My screen runs at {shown}, which I need for my spreadsheets.",
            )
        )

    def ticket(self) -> str:
        d, rng = self.d, self.rng
        vm = d.vm.name
        ops = rng.random() < 0.5 or (self.failed and rng.random() < 0.5)
        if ops:
            sender = f"{d.reporter} <{_mail(d.reporter)}> (Virtualisation team)"
            if self.failed:
                subject = rng.choice(
                    (
                        f"{vm} will not move",
                        f"Migration of {vm} failed",
                        f"Host maintenance blocked by {vm}",
                    )
                )
                body = [
                    rng.choice(
                        (
                            f"Last night's host rebalancing could not move {vm}: the task ended "
                            'with "Failed to flush checkpoint data!".',
                            f"Every attempt to migrate {vm} fails with a general system error "
                            'about "checkpoint data".',
                            f"{vm} is the one VM that keeps {d.vm.host} out of "
                            "maintenance mode: its migration fails.",
                        )
                    ),
                    f"It is {d.user}'s desktop in {d.dept[1]}.",
                ]
            else:
                subject = rng.choice(
                    (
                        f"Check {vm} before the host maintenance",
                        f"Is {vm} safe to move?",
                        f"Pre-check for {vm}",
                    )
                )
                body = [
                    rng.choice(
                        (
                            f"We patch the hosts of {d.home.name} this weekend and will move "
                            f"every VM off them. Our inventory script flags {vm} for the "
                            "checkpoint problem.",
                            f"Before we rebalance {d.home.name}, please tell me whether {vm} "
                            "would fail to migrate, and fix it if it would.",
                            f"A colleague's desktop failed to migrate last month. {vm} looks "
                            "similar to me: can you check it?",
                        )
                    ),
                    f"The desktop belongs to {d.user} ({d.dept[1]}).",
                ]
            closing = rng.choice(("Thanks", "Regards", "Cheers"))
            name = self.first
        else:
            sender = f"{d.user} <{_mail(d.user)}> ({d.dept[1]})"
            if self.failed:
                subject = rng.choice(
                    (
                        f"My PC {vm} - IT says it cannot be moved",
                        f"{vm} froze during the night maintenance?",
                    )
                )
                body = [
                    rng.choice(
                        (
                            f"the infrastructure team told me my virtual PC {vm} blocks their "
                            'maintenance because of a "checkpoint" error.',
                            f"IT wrote that moving my desktop {vm} failed last night with an "
                            "error about checkpoint data.",
                        )
                    )
                ]
            else:
                subject = rng.choice(
                    (
                        f"Question about my PC {vm}",
                        f"Will {vm} be affected by the maintenance?",
                    )
                )
                body = [
                    rng.choice(
                        (
                            f"I heard that some desktops cannot be moved during the host "
                            f"maintenance. Is my PC {vm} one of them?",
                            f"my colleague's PC had trouble when IT moved it. Can you check "
                            f"mine, {vm}, before the weekend?",
                        )
                    )
                ]
            sentence = self._screens_sentence()
            if sentence:
                body.append(sentence)
            closing = rng.choice(("Thank you", "Best regards", "Thanks a lot"))
            name = d.user.split()[0]
        if "look_alike" in d.story:
            body.append(f"Please do not mix it up with {d.story['look_alike']}.")
        if ops:
            when = (
                "A short restart is fine after 17:00 if you warn the user first.",
                "The user can log off at lunchtime.",
                "Please do not restart it during office hours.",
                "",
            )
        else:
            when = (
                "I can log off at lunchtime.",
                "Please warn me before you restart it.",
                "I have a deadline today, so please no restart before 17:00.",
                "",
            )
        body.append(rng.choice(when))
        greeting = "Hi," if ops else "Hello,"
        text = "\n".join(s for s in body if s)
        return (
            f"From: {sender}\nTo: IT Helpdesk\nSubject: {subject}\n\n{greeting}\n{text}\n\n"
            f"{closing}, {name}"
        )


def _mail(person: str) -> str:
    """``Pavel Horák`` -> ``p.horak@lab.local``: accents dropped, as mail systems do."""
    first, _, last = person.partition(" ")
    decomposed = unicodedata.normalize("NFKD", f"{first[0]}.{last}".lower())
    plain = "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch == "."))
    return f"{plain}@lab.local"
