"""The HTML view of a race: one self-contained report.html (inline CSS, no network) from the record.

Candidate output is untrusted, so every string is escaped; diffs are highlighted with pygments.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Pygments ships no type information and types-Pygments is not a dependency.
from pygments import formatters, lex, lexers, token  # type: ignore[import-untyped]
from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from racer import fmt, htmlreview
from racer.report import Acceptance, Candidate, Flag, RaceReport, TestSummary, ranked

MAX_DIFF_LINES = 5000  # per candidate; the full diff is one `racer diff` away

_CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg2: #f6f8fa; --red: #b42318;
  --redbg: #fde7e7; --amber: #8a5a00; --amberbg: #fff4d6; --green: #1a7f37; --greenbg: #dafbe1; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 .3em; } h2 { margin-top: 2em; border-bottom: 1px solid var(--line); }
h3 { font-size: 1em; margin: 1.2em 0 .4em; }
code, pre, .code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: .5em 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
.advice { background: var(--amberbg); color: var(--amber); border: 1px solid #e8c46a;
  padding: 8px 12px; border-radius: 6px; font-weight: 600; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: .85em;
  background: var(--bg2); border: 1px solid var(--line); }
.badge.passed, .badge.high { background: var(--greenbg); color: var(--green); }
.badge.low, .badge.tests_failed, .badge.error, .badge.agent_failed, .badge.timed_out,
.badge.setup_failed { background: var(--redbg); color: var(--red); }
.badge.medium { background: var(--amberbg); color: var(--amber); }
table { border-collapse: collapse; }
table.evidence { width: 100%; font-size: 14px; }
table.evidence th, table.evidence td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; }
table.evidence th { background: var(--bg2); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.tamper { color: var(--red); }
li.flag.tamper { background: var(--redbg); border-left: 4px solid var(--red); }
li.flag.scope { background: var(--bg2); border-left: 4px solid var(--line); }
ul.flags { list-style: none; padding: 0; } ul.flags li { padding: 4px 8px; margin: 3px 0; }
.sev { font-weight: 700; text-transform: uppercase; font-size: .8em; margin-right: 6px; }
.muted { color: var(--muted); }
pre.msg { white-space: pre-wrap; background: var(--bg2); padding: 8px 12px; border-radius: 6px;
  max-height: 400px; overflow: auto; }
.file { border: 1px solid var(--line); border-radius: 6px; margin: 10px 0; overflow-x: auto; }
.file h4 { margin: 0; padding: 6px 10px; background: var(--bg2); border-bottom: 1px solid var(--line);
  font: 600 13px ui-monospace, Menlo, Consolas, monospace; }
table.diff { width: 100%; table-layout: fixed; }
table.diff td { padding: 0 6px; vertical-align: top; white-space: pre-wrap; word-break: break-all; }
table.diff td.ln { width: 4.5em; color: var(--muted); text-align: right; user-select: none; }
table.diff td.sign { width: 1.5em; user-select: none; }
table.diff col.ln { width: 4.5em; } table.diff col.sign { width: 1.5em; }
table.diff tr.hunk td { background: #ddf4ff; color: var(--muted); }
table.diff .add, table.diff tr.add td { background: #e6ffec; }
table.diff .del, table.diff tr.del td { background: #ffebe9; }
table.diff tr.note td { color: var(--muted); font-style: italic; }
.diffview[data-view="unified"] .split, .diffview[data-view="split"] .unified { display: none; }
.toggle button { font: inherit; font-size: .85em; margin-right: 4px; }
"""

_SCRIPT = """
document.addEventListener("click", function (ev) {
  var b = ev.target.closest("button[data-show]");
  if (b) { b.closest(".diffview").setAttribute("data-view", b.getAttribute("data-show")); }
});
"""


# --- small formatters ----------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _anchors(report: RaceReport) -> dict[str, str]:
    """Candidate name -> its section's id: position in the record plus a URL-safe name."""
    return {
        c.name: f"c{i + 1}-" + re.sub(r"[^A-Za-z0-9_-]+", "-", c.name).strip("-")
        for i, c in enumerate(report.candidates)
    }


def _pass_fail(d: TestSummary | Acceptance | None) -> str:
    if d is None:
        return "—"
    extra = f" +{d.errors} err" if d.errors else ""
    return f"{d.passed} / {d.failed}{extra}"


def _severity(f: Flag) -> str:
    """The flag's CSS class: tamper, or scope for anything else."""
    return "tamper" if f.severity == "tamper" else "scope"


def _flag_counts(c: Candidate) -> str:
    if not c.flags:
        return "none"
    tamper = sum(f.count for f in c.flags if _severity(f) == "tamper")
    scope = sum(f.count for f in c.flags) - tamper
    parts = [f'<span class="tamper">{tamper} tamper</span>'] if tamper else []
    return ", ".join([*parts, f"{scope} scope"] if scope else parts)


def _badge(status: str) -> str:
    return f'<span class="badge {_e(status)}">{_e(status)}</span>'


# --- diffs ---------------------------------------------------------------------------------------


def _stylesheet() -> str:
    defs = str(formatters.HtmlFormatter(style="default").get_style_defs(".hl"))
    # Only the token rules; the rest (pre, line numbers) would restyle the whole page.
    return "\n".join(line for line in defs.splitlines() if line.startswith(".hl "))


def _css_class(ttype: Any) -> str:
    while ttype not in token.STANDARD_TYPES:
        ttype = ttype.parent
    return str(token.STANDARD_TYPES[ttype])


def _lexer(path: str) -> Any:
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    # Finding a lexer scans every lexer's patterns: once per extension is enough.
    return _lexer_for(f"x{name[dot:]}" if dot > 0 else name)


@functools.lru_cache(maxsize=256)
def _lexer_for(name: str) -> Any:
    """pygments' own choice for a file name (`find_lexer_class_for_filename`: the best priority,
    exact names before globs), among its built-in lexers only: asking for plugin lexers reads
    every installed distribution's entry points, ~0.5 s per racer run."""
    from fnmatch import fnmatch

    from pygments.lexers._mapping import LEXERS  # type: ignore[import-untyped]

    matches: list[tuple[float, str, Any]] = []
    for _module, lexer_name, _aliases, patterns, _mimes in LEXERS.values():
        for pattern in patterns:
            if fnmatch(name, pattern):
                cls = lexers.find_lexer_class(lexer_name)
                if cls is not None:
                    bonus = 0.5 if "*" not in pattern else 0.0
                    matches.append((cls.priority + bonus, cls.__name__, cls))
    if not matches:
        return lexers.TextLexer(stripnl=False, ensurenl=True)
    return max(matches, key=lambda m: (m[0], m[1]))[2](stripnl=False, ensurenl=True)


def _highlight(lexer: Any, lines: Sequence[str]) -> list[str]:
    """One HTML fragment per line, lexed as one text so multi-line tokens keep their colour."""
    text = "".join(line + "\n" for line in lines)
    rows: list[list[tuple[str, str]]] = [[]]  # per line: (css class, text) runs
    plain: list[str] = []
    for ttype, value in lex(text, lexer):
        value = str(value)
        plain.append(value)
        cls = _css_class(ttype)
        for k, part in enumerate(value.split("\n")):
            if k:
                rows.append([])
            if not part:
                continue
            row = rows[-1]
            if row and row[-1][0] == cls:
                row[-1] = (cls, row[-1][1] + part)
            else:
                row.append((cls, part))
    if "".join(plain) != text:  # the lexer rewrote the text (tabs, newlines): show it plain
        return [_e(line) for line in lines]
    out = [
        "".join(f'<span class="{cls}">{_e(part)}</span>' if cls else _e(part) for cls, part in row)
        for row in rows
    ]
    return (out + [""] * len(lines))[: len(lines)]


@dataclass(frozen=True)
class _Line:
    kind: str  # add, del, ctx, note
    old: int | None
    new: int | None
    html: str


def _hunk_lines(lexer: Any, hunk: Any) -> list[_Line]:
    raw = [(str(line.line_type), str(line.value).rstrip("\r\n"), line) for line in hunk]
    old = _highlight(lexer, [v for t, v, _ in raw if t in (" ", "-")])
    new = _highlight(lexer, [v for t, v, _ in raw if t in (" ", "+")])
    out: list[_Line] = []
    io = jn = 0
    for kind, value, line in raw:
        if kind == " ":
            out.append(_Line("ctx", line.source_line_no, line.target_line_no, new[jn]))
            io, jn = io + 1, jn + 1
        elif kind == "-":
            out.append(_Line("del", line.source_line_no, None, old[io]))
            io += 1
        elif kind == "+":
            out.append(_Line("add", None, line.target_line_no, new[jn]))
            jn += 1
        else:
            out.append(_Line("note", None, None, _e(value.strip())))
    return out


def _num(n: int | None) -> str:
    return "" if n is None else str(n)


_SIGN = {"add": "+", "del": "-", "ctx": " ", "note": "", "finding": ""}


def _unified(hunks: Sequence[tuple[str, list[_Line]]]) -> str:
    rows: list[str] = []
    for header, lines in hunks:
        rows.append(
            f'<tr class="hunk"><td class="ln"></td><td class="ln"></td><td colspan="2">{_e(header)}</td></tr>'
        )
        for ln in lines:
            if ln.kind == "finding":  # a reviewer's finding on the line above
                rows.append(f'<tr class="finding"><td colspan="4">{ln.html}</td></tr>')
                continue
            rows.append(
                f'<tr class="{ln.kind}"><td class="ln">{_num(ln.old)}</td><td class="ln">{_num(ln.new)}</td>'
                f'<td class="sign">{_SIGN[ln.kind]}</td><td class="code">{ln.html}</td></tr>'
            )
    # table-layout: fixed takes column widths from the first row, which may be a hunk header
    # spanning columns: fix them here so the code column gets the room.
    cols = '<colgroup><col class="ln"><col class="ln"><col class="sign"><col></colgroup>'
    return '<table class="diff unified hl">' + cols + "".join(rows) + "</table>"


def _split_rows(lines: Sequence[_Line]) -> Iterator[str]:
    dels: list[_Line] = []
    adds: list[_Line] = []

    def cell(ln: _Line | None, side: str) -> str:
        if ln is None:
            return '<td class="ln"></td><td class="code"></td>'
        no = ln.old if side == "old" else ln.new
        return f'<td class="ln">{_num(no)}</td><td class="code {ln.kind}">{ln.html}</td>'

    def flush() -> Iterator[str]:
        for i in range(max(len(dels), len(adds))):
            left = dels[i] if i < len(dels) else None
            right = adds[i] if i < len(adds) else None
            yield f"<tr>{cell(left, 'old')}{cell(right, 'new')}</tr>"
        dels.clear()
        adds.clear()

    for ln in lines:
        if ln.kind == "del":
            dels.append(ln)
        elif ln.kind == "add":
            adds.append(ln)
        else:
            yield from flush()
            if ln.kind in ("note", "finding"):
                yield f'<tr class="{ln.kind}"><td class="ln"></td><td colspan="3">{ln.html}</td></tr>'
            else:
                yield f"<tr>{cell(ln, 'old')}{cell(ln, 'new')}</tr>"
    yield from flush()


def _split(hunks: Sequence[tuple[str, list[_Line]]]) -> str:
    rows: list[str] = []
    for header, lines in hunks:
        rows.append(f'<tr class="hunk"><td class="ln"></td><td colspan="3">{_e(header)}</td></tr>')
        rows += _split_rows(lines)
    cols = '<colgroup><col class="ln"><col><col class="ln"><col></colgroup>'
    return '<table class="diff split hl">' + cols + "".join(rows) + "</table>"


def _file_title(pfile: Any) -> str:
    path = str(pfile.path)
    if pfile.is_rename:
        source = re.sub(r"^a/", "", str(pfile.source_file))
        path = f"{source} → {path}"
    what = " (new file)" if pfile.is_added_file else " (deleted)" if pfile.is_removed_file else ""
    return f"{path}{what}  +{pfile.added} -{pfile.removed}"


def _with_notes(lines: list[_Line], path: str, notes: Mapping[tuple[str, int], str]) -> list[_Line]:
    """The hunk's lines with each finding's row right under the line it names."""
    out: list[_Line] = []
    for ln in lines:
        out.append(ln)
        if ln.kind != "del" and ln.new is not None and (path, ln.new) in notes:
            out.append(_Line("finding", None, None, notes[(path, ln.new)]))
    return out


def _render_diff(diff: str, notes: Mapping[tuple[str, int], str] | None = None) -> str:
    if not diff.strip():
        return '<p class="muted">empty diff</p>'
    try:
        patch = PatchSet(diff)
    except UnidiffParseError as exc:
        return f'<p class="muted">diff could not be parsed ({_e(exc)}); shown as text</p><pre class="msg">{_e(diff)}</pre>'
    if len(patch) == 0:
        return f'<pre class="msg">{_e(diff)}</pre>'
    parts: list[str] = []
    shown = total = 0
    for pfile in patch:
        title = f"<h4>{_e(_file_title(pfile))}</h4>"
        size = sum(len(hunk) for hunk in pfile)
        total += size
        if pfile.is_binary_file or size == 0 or shown >= MAX_DIFF_LINES:
            note = (
                "binary file"
                if pfile.is_binary_file
                else "no content change (mode or rename)"
                if size == 0
                else "not shown: over the size limit"
            )
            parts.append(f'<div class="file">{title}<p class="muted">&nbsp;{note}</p></div>')
            continue
        lexer = _lexer(str(pfile.path))
        hunks: list[tuple[str, list[_Line]]] = []
        for hunk in pfile:
            lines = _hunk_lines(lexer, hunk)[: max(MAX_DIFF_LINES - shown, 0)]
            lines = _with_notes(lines, str(pfile.path), notes or {})
            shown += len(lines)
            header = f"@@ -{hunk.source_start},{hunk.source_length} +{hunk.target_start},{hunk.target_length} @@ {hunk.section_header}"
            if lines:
                hunks.append((header.rstrip(), lines))
        parts.append(
            f'<div class="file">{title}<div class="unified">{_unified(hunks)}</div>'
            f'<div class="split">{_split(hunks)}</div></div>'
        )
    if total > shown:
        parts.append(
            f'<p class="muted">diff truncated: {shown} of {total} lines shown; '
            "<code>racer diff</code> prints all of it</p>"
        )
    toggle = (
        '<p class="toggle"><button type="button" data-show="unified">unified</button>'
        '<button type="button" data-show="split">side by side</button></p>'
    )
    return f'<div class="diffview" data-view="unified">{toggle}{"".join(parts)}</div>'


# --- page sections -------------------------------------------------------------------------------


def _header(report: RaceReport, cands: Sequence[Candidate]) -> str:
    title = report.spec.get("title") or "racer report"
    confidence = report.confidence
    winner = f"<strong>{_e(report.winner)}</strong>" if report.winner else "none"
    facts = [
        ("race", f"<code>{_e(report.id)}</code>"),
        ("status", f'<span class="badge">{_e(report.status)}</span>'),
        ("spec", f"<code>{_e(report.spec.get('path'))}</code>"),
        (
            "base",
            f"<code>{_e(fmt.commit(report.base.get('commit')))}</code> on "
            f"<code>{_e(report.base.get('branch') or '(detached)')}</code>",
        ),
        ("created", _e(report.created)),
        ("race time", _e(fmt.duration(report.wall_s))),
        ("winner", winner),
        ("decided by", _e(report.decided_by or "—")),
        ("confidence", f'<span class="badge {_e(confidence)}">{_e(confidence or "—")}</span>'),
    ]
    if report.cluster_summary:
        facts.append(("agreement", _e(report.cluster_summary)))
    if where := fmt.placed(report.acceptance_files):
        facts.append(("acceptance", _e(where.removeprefix("acceptance tests "))))
    facts += htmlreview.facts(report)
    facts += [("warning", _e(w)) for w in report.warnings]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    advice = ""
    if report.merged:
        m = report.merged
        advice = (
            f'<p class="advice">Merged {_e(m.candidate)} as <code>{_e(fmt.commit(m.commit))}</code>'
            f" onto <code>{_e(m.branch)}</code>.</p>"
        )
    elif confidence == "low":
        top = " and ".join(_e(c.name) for c in cands[:2])
        names = f" ({top})" if top else ""
        advice = (
            f'<p class="advice" role="alert">Low confidence: review the top two candidates{names} '
            "before merging — the evidence barely separates them.</p>"
        )
    return f'<header><h1>{_e(title)}</h1><dl class="facts">{dl}</dl>{advice}</header>'


def _ranking(cands: Sequence[Candidate], anchors: Mapping[str, str], winner: str | None) -> str:
    items = []
    for c in cands:
        crown = " <strong>winner</strong>" if c.name == winner else ""
        items.append(
            f'<li><a href="#{_e(anchors[c.name])}">{_e(c.name)}</a> {_badge(c.status)}{crown}</li>'
        )
    return f'<section><h2>Ranking</h2><ol class="ranking">{"".join(items)}</ol></section>'


_COLUMNS = (
    "#",
    "candidate",
    "status",
    "tests passed / failed",
    "fixed",
    "broken",
    "acceptance passed / failed",
    "flags",
    "diff",
    "agreement",
    "cost",
    "time",
)


def _agreement(c: Candidate, cands: Sequence[Candidate]) -> str:
    """`same change as fake@x`, `its own change`, or — (not compared: it did not finish)."""
    if c.cluster is None:
        return fmt.NONE
    same = [o.name for o in cands if o.cluster == c.cluster and o.name != c.name]
    return f"same change as {', '.join(same)}" if same else "its own change"


def _evidence_row(c: Candidate, anchor: str, agreement: str) -> str:
    t = c.tests
    cells = [
        f'<td class="num">{_e(fmt.rank(c.rank))}</td>',
        f'<td><a href="#{_e(anchor)}">{_e(c.name)}</a></td>',
        f"<td>{_badge(c.status)}</td>",
        f'<td class="num">{_e(_pass_fail(t))}</td>',
        f'<td class="num">{len(t.fixed) if t else "—"}</td>',
        f'<td class="num">{len(t.broken) if t else "—"}</td>',
        f'<td class="num">{_e(_pass_fail(c.acceptance))}</td>',
        f"<td>{_flag_counts(c)}</td>",
        f'<td class="num">{_e(fmt.diffstat(c.diffstat))}</td>',
        f"<td>{_e(agreement)}</td>",
        f'<td class="num">{_e(fmt.cost(c))}</td>',
        f'<td class="num">{_e(fmt.duration(c.duration_s))}</td>',
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def _evidence(cands: Sequence[Candidate], anchors: Mapping[str, str]) -> str:
    head = "".join(f"<th>{_e(col)}</th>" for col in _COLUMNS)
    rows = "".join(_evidence_row(c, anchors[c.name], _agreement(c, cands)) for c in cands)
    return (
        f'<section><h2>Evidence</h2><table class="evidence"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )


def _id_list(label: str, ids: Sequence[str], css: str = "") -> str:
    attr = f' class="{css}"' if css else ""
    if not ids:
        return f"<p>{label}: none</p>"
    items = "".join(f"<li><code>{_e(i)}</code></li>" for i in ids)
    return f"<p{attr}>{label} ({len(ids)}):</p><ul>{items}</ul>"


def _tests_block(c: Candidate) -> str:
    t = c.tests
    if t is None:
        body = '<p class="muted">tests not run</p>'
    elif not t.junit:
        # No per-test results: say what ran and how it ended, never counts nobody saw.
        body = f"<p>{_e(fmt.tests(t))}</p>"
    else:
        counts = ", ".join(
            f"{n} {label}"
            for n, label in (
                (t.passed, "passed"),
                (t.failed, "failed"),
                (t.errors, "errors"),
                (t.skipped, "skipped"),
            )
        )
        verdict = " — suite green" if t.ok else " — suite red"
        # The counts say it all for a JUnit run; otherwise say why there are none.
        why = t.error or t.timed_out or (t.exit_code and not t.failed and not t.errors)
        detail = f' <span class="muted">({_e(fmt.tests(t))})</span>' if why else ""
        body = f"<p>{_e(counts)}{verdict}{detail}</p>"
        body += _id_list("fixed (failed on base, pass here)", t.fixed)
        body += _id_list("broken (passed on base, fail here)", t.broken, "tamper")
    if c.acceptance is not None:
        body += f"<p>acceptance tests: {_e(_pass_fail(c.acceptance))} (passed / failed)</p>"
        for dest, why in sorted(c.acceptance.load_errors.items()):
            body += f"<p>acceptance test {_e(dest)} could not load: {_e(why)}</p>"
    return f"<h3>Tests</h3>{body}"


def _flags_block(c: Candidate) -> str:
    if not c.flags:
        return '<h3>Flags</h3><p class="muted">no flags</p>'
    items = "".join(
        f'<li class="flag {_severity(f)}"><span class="sev">{_severity(f)}</span> '
        f"<code>{_e(f.kind)}</code> <code>{_e(f.file)}</code> {_e(f.detail)}</li>"
        for f in c.flags
    )
    return f'<h3>Flags</h3><ul class="flags">{items}</ul>'


def _meta(c: Candidate) -> str:
    parts = [f"agent <code>{_e(c.agent or c.name)}</code>"]
    if c.model:
        parts.append(f"model <code>{_e(c.model)}</code>")
    if c.branch:
        parts.append(f"branch <code>{_e(c.branch)}</code>")
    if c.exit_code is not None:
        parts.append(f"exit code {_e(c.exit_code)}")
    parts.append(f"time {_e(fmt.duration(c.duration_s))}")
    parts.append(f"cost {_e(fmt.cost(c))}")
    if c.tokens is not None:
        parts.append(f"tokens {_e(fmt.usage(c))}")
    return '<p class="meta muted">' + " · ".join(parts) + "</p>"


def _candidate_section(
    report: RaceReport,
    c: Candidate,
    anchor: str,
    diff: str | None,
    big: tuple[str, int] | None = None,
) -> str:
    out = [
        f'<section class="cand" id="{_e(anchor)}"><h2>#{_e(fmt.rank(c.rank))} {_e(c.name)} '
        f"{_badge(c.status)}</h2>",
        _meta(c),
    ]
    reasons = "".join(f"<li>{_e(r)}</li>" for r in c.reasons) or "<li>no reasons recorded</li>"
    out.append(f"<h3>Why this place</h3><ul>{reasons}</ul>")
    if c.error:
        out.append(f'<p class="tamper">error: {_e(c.error)}</p>')
    out += [_flags_block(c), htmlreview.findings_block(report, c), _tests_block(c)]
    if c.final_message:
        out.append(
            '<h3>Final message <span class="muted">(the agent\'s own words, not evidence)</span></h3>'
            f'<pre class="msg">{_e(c.final_message)}</pre>'
        )
    out.append("<h3>Diff</h3>")
    shown = _render_diff(diff, htmlreview.notes(report, c)) if diff is not None else None
    if big is not None:
        href, size = big
        shown = (
            f'<p class="muted">a {size / 2**20:.0f} MB diff is not inlined: '
            f'<a href="{_e(href)}">{_e(href)}</a> or <code>racer diff</code></p>'
        )
    out.append('<p class="muted">no diff recorded</p>' if shown is None else shown)
    out.append("</section>")
    return "".join(out)


def render_html(
    report: RaceReport,
    diffs: Mapping[str, str],
    big: Mapping[str, tuple[str, int]] | None = None,
) -> str:
    """The whole report page; `diffs` maps candidate name -> unified diff text, `big` the ones
    only linked (href, size)."""
    cands, anchors = ranked(report), _anchors(report)
    title = report.spec.get("title") or "racer report"
    body = [
        _header(report, cands),
        _ranking(cands, anchors, report.winner),
        _evidence(cands, anchors),
        *(
            _candidate_section(
                report, c, anchors[c.name], diffs.get(c.name), (big or {}).get(c.name)
            )
            for c in cands
        ),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>racer: {_e(title)} ({_e(report.id)})</title>"
        f"<style>{_CSS}\n{htmlreview.CSS}\n{_stylesheet()}</style></head><body>"
        + "\n".join(body)
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )
