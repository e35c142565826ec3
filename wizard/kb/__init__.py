"""The article's rules: facts in, assessment and remedy plans out. No Qt, no pyVmomi, no I/O."""

from wizard.kb.model import (
    ARTICLE_ID,
    Assessment,
    Caveat,
    CaveatId,
    Change,
    ChangeTarget,
    Condition,
    ConditionId,
    ConditionState,
    Privilege,
    Remedy,
    RemedyId,
    Verdict,
)
from wizard.kb.prescreen import prescreen
from wizard.kb.remedies import InvalidRemedyOptions, RemedyOptions, remedies
from wizard.kb.rules import assess

__all__ = [
    "ARTICLE_ID",
    "Assessment",
    "Caveat",
    "CaveatId",
    "Change",
    "ChangeTarget",
    "Condition",
    "ConditionId",
    "ConditionState",
    "InvalidRemedyOptions",
    "Privilege",
    "Remedy",
    "RemedyId",
    "RemedyOptions",
    "Verdict",
    "assess",
    "prescreen",
    "remedies",
]
