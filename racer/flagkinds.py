"""What a flag is (kind, file, one-line detail, severity) and which kinds are tamper or scope.

A leaf: the record (racer.report) reads flags without loading the detectors in racer.flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["tamper", "scope"]


_TAMPER = (
    "test_deleted skip_added assert_weakened expected_changed test_infra_edited special_cases_tests"
    " secret_in_diff"
)
_SCOPE = "lockfile dependency lint_suppression debug_print unique_file formatting_only"
SEVERITY: dict[str, Severity] = {
    **dict.fromkeys(_TAMPER.split(), "tamper"),
    **dict.fromkeys(_SCOPE.split(), "scope"),
}


@dataclass(frozen=True)
class Flag:
    kind: str
    file: str
    detail: str  # one line a person understands
    severity: Severity
    count: int = 1  # more than 1: a group of this many flags of one kind (see verdict.grouped)
