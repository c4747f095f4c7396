"""The reviewer's findings and the test writer's tests in report.html: a block per candidate and a
row under the diff line each finding names. Everything the agents wrote is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from racer import fmt
from racer.report import Candidate, Finding, RaceReport

CSS = """
ul.findings { list-style: none; padding: 0; } ul.findings li { padding: 4px 8px; margin: 3px 0; }
.finding.reproduced { background: var(--redbg); border-left: 4px solid var(--red); }
.finding.not-reproduced, .finding.broken-test, .finding.not-run { background: var(--bg2);
  border-left: 4px solid var(--line); }
.finding.advisory { background: var(--amberbg); border-left: 4px solid #e8c46a; }
.outcome { font-weight: 700; font-size: .8em; text-transform: uppercase; margin-right: 6px; }
tr.finding td { font-family: system-ui, sans-serif; font-size: 13px; white-space: normal; }
details.test pre { margin: 4px 0; }
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _css(outcome: str) -> str:
    return outcome.replace(" ", "-")


def _results(f: Finding) -> str:
    if not f.results:
        return ""
    ran = ", ".join(f"{name}: {result}" for name, result in sorted(f.results.items()))
    return f' <span class="muted">(base: {_e(f.base or "—")}; {_e(ran)})</span>'


def finding_html(f: Finding, *, with_test: bool = True) -> str:
    """One finding: its outcome, severity, place and claim; its test folded away."""
    where = f.file + (f":{f.line}" if f.line else "")
    test = ""
    if f.test is not None and with_test:
        test = (
            f'<details class="test"><summary>test <code>{_e(f.test.path)}</code></summary>'
            f'<pre class="msg">{_e(f.test.content)}</pre></details>'
        )
    return (
        f'<span class="outcome">{_e(f.outcome)}</span><span class="sev">{_e(f.severity)}</span>'
        f"<code>{_e(where)}</code> {_e(f.claim)}{_results(f)}{test}"
    )


def findings_block(report: RaceReport, c: Candidate) -> str:
    """The candidate's findings (verified first, advice capped), or nothing without a review."""
    note = fmt.reviewed_as(report, c.name)
    found = fmt.findings_of(report.review, c.name)
    if note is None and not found:
        return ""
    items = "".join(
        f'<li class="finding {_e(_css(f.outcome))}">{finding_html(f)}</li>' for f in found
    )
    body = f'<ul class="findings">{items}</ul>' if items else '<p class="muted">no findings</p>'
    said = f'<p class="muted">{_e(note)}</p>' if note else ""
    return f"<h3>Review</h3>{said}{body}"


def notes(report: RaceReport, c: Candidate) -> dict[tuple[str, int], str]:
    """(file, line) -> the findings on that line of the candidate's diff, as one table cell."""
    out: dict[tuple[str, int], list[str]] = {}
    for f in fmt.findings_of(report.review, c.name):
        if f.line:
            out.setdefault((f.file, f.line), []).append(
                f'<div class="finding {_e(_css(f.outcome))}">'
                f"{finding_html(f, with_test=False)}</div>"
            )
    return {key: "".join(parts) for key, parts in out.items()}


def facts(report: RaceReport) -> Sequence[tuple[str, str]]:
    """Header facts: the cascade, the generated tests and the review, in one line each."""
    rows = []
    if (line := fmt.cascade(report.cascade)) is not None:
        rows.append(("cascade", _e(line.removeprefix("cascade: "))))
    if (line := fmt.generated(report.generated_tests)) is not None:
        rows.append(("generated tests", _e(line)))
    if (line := fmt.review(report.review)) is not None:
        rows.append(("review", _e(line)))
    return rows
