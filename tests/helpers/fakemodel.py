"""A stateless, scripted fake model server that the real agent CLIs accept (loopback only).

Speaks Anthropic Messages, OpenAI Responses, Gemini and OpenAI Chat Completions; the path prefix
`/s/<scenario>` picks the script, the number of tool results in the request picks the step.
A final text may hold `{{label_of:NEEDLE}}`: the label X of the request's own `## Candidate X`
section (a reviewer prompt) whose text contains NEEDLE, "?" when none does.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

# Tool names per kind, in order of preference; matched against the request's own tool list.
WRITE_TOOLS = ("Write", "write_file", "write")
PATCH_TOOLS = ("apply_patch",)
SHELL_TOOLS = ("Bash", "exec_command", "shell", "run_shell_command", "bash", "shell_command")

# Where each CLI states its working directory in the prompt (needed for tools that take
# absolute paths only).
_CWD_PATTERNS = (
    re.compile(r"Primary working directory: *(\S+)"),  # claude
    re.compile(r"<cwd>\s*([^<]+?)\s*</cwd>"),  # codex
    re.compile(r"I'm currently working in the directory: *(\S+)"),  # qwen, gemini
    re.compile(r"Working directory: *(\S+)"),  # opencode
    re.compile(r"<workspace_directory>\s*(\S+?)\s*</workspace_directory>"),
)

_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_OPENAI_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


@dataclass
class Scenario:
    """The script one contestant plays: tool steps, then a final message.

    A step is `{"write": {"path", "content"}}` or `{"shell": "command"}` (through whichever
    tool the CLI offers for it), or `{"tool": NAME, "input": {...}}`: a call of the tool of that
    exact name from the request's tool list (an MCP tool such as `mcp__racer__race_start`).

    `final_text` may hold `{{label_of:NEEDLE}}` placeholders, resolved per request (see
    `resolve_labels`): a scripted reviewer names the blind label of the diff it means."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    final_text: str = "Done. RACER_FAKE_DONE"
    usage: dict[str, int] = field(default_factory=lambda: {"input": 1200, "output": 60})
    error_status: int | None = None
    error_on: str = "tools"  # "tools": only requests that offer tools; "all": every request
    error_times: int | None = None  # fail only the first N matching requests, then behave
    _failed: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def should_fail(self, offers_tools: bool) -> bool:
        if self.error_status is None or (self.error_on != "all" and not offers_tools):
            return False
        with self._lock:
            if self.error_times is not None and self._failed >= self.error_times:
                return False
            self._failed += 1
            return True


@dataclass
class Tool:
    """A tool offered by the request, normalised across the four wire formats."""

    name: str
    kind: str  # "function" or "custom" (Responses freeform tools)
    schema: dict[str, Any]
    description: str = ""


@dataclass
class Action:
    """What the model says next: a tool call (name + arguments or freeform input) or text."""

    text: str | None = None
    tool: str | None = None
    arguments: dict[str, Any] | None = None
    custom_input: str | None = None  # Responses "custom" tools take raw text, not JSON


@dataclass
class Call:
    """One parsed model request, whatever protocol it came in."""

    protocol: str
    model: str
    tools: list[Tool]
    tool_results: int
    text: str  # every string in the request, joined: for cwd and edit-format detection
    stream: bool
    json_schema: dict[str, Any] | None = None  # Gemini JSON-mode side calls
    last_result: str = ""  # the latest tool result's text, for assertions (first 500 chars)


class FakeModelServer:
    """ThreadingHTTPServer on 127.0.0.1:0 in a daemon thread; use as a context manager."""

    def __init__(
        self, scenarios: dict[str, Scenario] | None = None, log_dir: Path | None = None
    ) -> None:
        self.scenarios: dict[str, Scenario] = dict(scenarios or {})
        self.log_dir = log_dir
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def base(self, scenario: str) -> str:
        return f"{self.url}/s/{scenario}"

    def add(self, name: str, scenario: Scenario) -> None:
        self.scenarios[name] = scenario

    def start(self) -> FakeModelServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def for_scenario(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["scenario"] == name]

    def _record(self, entry: dict[str, Any], body: bytes) -> None:
        n = next(self._counter)
        entry["n"] = n
        with self._lock:
            self.requests.append(entry)
        if self.log_dir is not None:
            bodies = self.log_dir / "bodies"
            bodies.mkdir(parents=True, exist_ok=True)
            name = f"{n:04d}-{entry['scenario'] or '-'}-{entry['protocol'] or 'unknown'}.json"
            (bodies / name).write_bytes(body)
            with (self.log_dir / "requests.jsonl").open("a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")


# --------------------------------------------------------------------------- HTTP plumbing


def _make_handler(server: FakeModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        fake = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length
    fake: FakeModelServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        return body

    def _handle(self, method: str) -> None:
        raw = self._read_body()
        url = urlsplit(self.path)
        path = unquote(url.path)
        entry: dict[str, Any] = {
            "method": method,
            "path": self.path,
            "scenario": None,
            "model": None,
            "protocol": None,
            "status": 200,
            "time": time.time(),
        }
        try:
            status, headers, payload = self._route(method, path, url.query, raw, entry)
        except Exception as exc:  # a bug here must show as a 500, not a hung client
            status, headers, payload = 500, {}, _json({"error": {"message": repr(exc)}})
        entry["status"] = status
        self.fake._record(entry, raw)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _route(
        self, method: str, path: str, query: str, raw: bytes, entry: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes]:
        match = re.match(r"^/s/([^/]+)(/.*)$", path)
        name, rest = (match.group(1), match.group(2)) if match else ("default", path)
        entry["scenario"] = name
        scenario = self.fake.scenarios.get(name)
        if scenario is None:
            return _not_found(f"no scenario {name!r}")
        if method == "GET":
            if rest.rstrip("/").endswith("/models"):
                return 200, _JSON_HEADERS, _json({"object": "list", "data": []})
            return _not_found(f"no route for GET {path}")
        body: dict[str, Any] = json.loads(raw or b"{}")
        gemini = re.match(r"^.*/models/([^/:]+):(\w+)$", rest)
        if rest.endswith("/messages"):
            entry["protocol"] = "anthropic"
            call = _parse_anthropic(body)
        elif rest.endswith("/responses"):
            entry["protocol"] = "responses"
            call = _parse_responses(body)
        elif rest.endswith("/chat/completions"):
            entry["protocol"] = "chat"
            call = _parse_chat(body)
        elif gemini and gemini.group(2) == "countTokens":
            entry.update(protocol="gemini", model=gemini.group(1))
            return 200, _JSON_HEADERS, _json({"totalTokens": scenario.usage["input"]})
        elif gemini and gemini.group(2) in ("streamGenerateContent", "generateContent"):
            entry["protocol"] = "gemini"
            call = _parse_gemini(body, gemini.group(1), gemini.group(2) == "streamGenerateContent")
        else:
            return _not_found(f"no route for POST {path}")
        entry.update(
            model=call.model, tools=len(call.tools), k=call.tool_results, result=call.last_result
        )

        if scenario.should_fail(bool(call.tools)):
            assert scenario.error_status is not None
            return _error(call.protocol, scenario.error_status)
        action = _next_action(scenario, call)
        entry["action"] = action.tool or "text"
        return _RENDER[call.protocol](call, action, scenario.usage)


_JSON_HEADERS = {"Content-Type": "application/json"}
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def _not_found(message: str) -> tuple[int, dict[str, str], bytes]:
    return 404, _JSON_HEADERS, _json({"error": {"code": 404, "message": message}})


def _error(protocol: str, status: int) -> tuple[int, dict[str, str], bytes]:
    message = f"racer fake model: injected HTTP {status}"
    headers = dict(_JSON_HEADERS)
    if status == 429:
        headers["Retry-After"] = "0"
    if protocol == "anthropic":
        kind = _ANTHROPIC_ERROR_TYPES.get(status, "api_error")
        body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
    elif protocol == "gemini":
        google = _GOOGLE_STATUS.get(status, "UNKNOWN")
        body = {"error": {"code": status, "message": message, "status": google}}
    else:
        kind, code = _OPENAI_ERROR_TYPES.get(status, ("server_error", None))
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return status, headers, _json(body)


# --------------------------------------------------------------------------- request parsing


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for value in obj.values() for s in _strings(value)]
    if isinstance(obj, list):
        return [s for value in obj for s in _strings(value)]
    return []


def _text_of(*parts: Any) -> str:
    return "\n".join(s for part in parts for s in _strings(part))


def _last_text(results: list[dict[str, Any]], key: str) -> str:
    return _text_of(results[-1].get(key))[:500] if results else ""


def _parse_anthropic(body: dict[str, Any]) -> Call:
    tools = [
        Tool(t["name"], "function", t.get("input_schema") or {}, t.get("description") or "")
        for t in body.get("tools") or []
        if "name" in t
    ]
    results = [
        block
        for message in body.get("messages") or []
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    ]
    return Call(
        protocol="anthropic",
        model=str(body.get("model", "")),
        tools=tools,
        tool_results=len(results),
        text=_text_of(body.get("system"), body.get("messages")),
        stream=bool(body.get("stream")),
        last_result=_last_text(results, "content"),
    )


def _parse_responses(body: dict[str, Any]) -> Call:
    tools = []
    for t in body.get("tools") or []:
        if t.get("type") in ("function", "custom") and "name" in t:
            tools.append(
                Tool(t["name"], t["type"], t.get("parameters") or {}, t.get("description") or "")
            )
    items = body.get("input") or []
    results = [
        item
        for item in items
        if isinstance(item, dict) and item.get("type", "").endswith("_output")
    ]
    return Call(
        protocol="responses",
        model=str(body.get("model", "")),
        tools=tools,
        tool_results=len(results),
        text=_text_of(body.get("instructions"), items),
        stream=bool(body.get("stream", True)),
        last_result=_last_text(results, "output"),
    )


def _parse_chat(body: dict[str, Any]) -> Call:
    tools = []
    for t in body.get("tools") or []:
        fn = t.get("function") or {}
        if "name" in fn:
            tools.append(
                Tool(fn["name"], "function", fn.get("parameters") or {}, fn.get("description", ""))
            )
    messages = body.get("messages") or []
    results = [m for m in messages if m.get("role") in ("tool", "function")]
    return Call(
        protocol="chat",
        model=str(body.get("model", "")),
        tools=tools,
        tool_results=len(results),
        text=_text_of(messages),
        stream=bool(body.get("stream")),
        last_result=_last_text(results, "content"),
    )


def _parse_gemini(body: dict[str, Any], model: str, stream: bool) -> Call:
    tools = []
    for group in body.get("tools") or []:
        for decl in group.get("functionDeclarations") or []:
            schema = decl.get("parametersJsonSchema") or decl.get("parameters") or {}
            tools.append(Tool(decl["name"], "function", schema, decl.get("description") or ""))
    contents = body.get("contents") or []
    results = [
        part["functionResponse"]
        for content in contents
        for part in content.get("parts") or []
        if isinstance(part, dict) and "functionResponse" in part
    ]
    config = body.get("generationConfig") or {}
    schema = None
    if config.get("responseMimeType") == "application/json":
        schema = config.get("responseJsonSchema") or config.get("responseSchema") or {}
    return Call(
        protocol="gemini",
        model=model,
        tools=tools,
        tool_results=len(results),
        text=_text_of(body.get("systemInstruction"), contents),
        stream=stream,
        json_schema=schema,
        last_result=_last_text(results, "response"),
    )


# --------------------------------------------------------------------------- the script


def _cwd(text: str) -> str | None:
    for pattern in _CWD_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1).rstrip(".,;:`'\"")
    return None


_LABEL_OF = re.compile(r"\{\{label_of:(.*?)\}\}", re.S)
_CANDIDATE = re.compile(r"^## Candidate ([A-Z])[ \t]*$", re.M)
_HEADING = re.compile(r"^#{1,6} ", re.M)  # a section ends at the next heading (diff lines never
# start with "#": they start with " ", "+", "-", "@@", "diff", "index", ...)


def label_of(text: str, needle: str) -> str:
    """The X of the first `## Candidate X` section of `text` whose text contains `needle`."""
    for match in _CANDIDATE.finditer(text):
        end = _HEADING.search(text, match.end())
        body = text[match.end() : end.start() if end else len(text)]
        if needle in body:
            return match.group(1)
    return "?"


def resolve_labels(final_text: str, request_text: str) -> str:
    """`final_text` with each `{{label_of:NEEDLE}}` replaced by `label_of(request_text, NEEDLE)`."""
    if "{{label_of:" not in final_text:
        return final_text
    return _LABEL_OF.sub(lambda m: label_of(request_text, m.group(1)), final_text)


def _find(tools: list[Tool], names: tuple[str, ...]) -> Tool | None:
    by_name = {t.name: t for t in tools}
    return next((by_name[n] for n in names if n in by_name), None)


def _props(tool: Tool) -> dict[str, Any]:
    props = tool.schema.get("properties")
    return props if isinstance(props, dict) else {}


def _path_arg(tool: Tool, path: str, cwd: str | None) -> tuple[str, str]:
    props = _props(tool)
    key = next(
        (k for k in ("file_path", "filePath", "absolute_path", "path") if k in props),
        "file_path",
    )
    description = str(props.get(key, {}).get("description", "")) + tool.description
    if "absolute" in description.lower() and cwd and not path.startswith("/"):
        path = f"{cwd.rstrip('/')}/{path}"
    return key, path


def _shell_call(tool: Tool, command: str, cwd: str | None) -> Action:
    props = _props(tool)
    args: dict[str, Any] = {}
    if "cmd" in props:
        args["cmd"] = command
    elif props.get("command", {}).get("type") == "array":
        args["command"] = ["bash", "-lc", command]
    else:
        args["command"] = command
    if "description" in props:
        args["description"] = "racer fake step"
    if cwd:
        for key in ("workdir", "cwd"):
            if key in props:
                args[key] = cwd
                break
    if "is_background" in props:
        args["is_background"] = False
    return Action(tool=tool.name, arguments=args)


def _heredoc(path: str, content: str) -> str:
    return f"mkdir -p \"$(dirname '{path}')\" && cat > '{path}' <<'RACER_EOF'\n{content}RACER_EOF\n"


def _tool_action(step: dict[str, Any], call: Call) -> Action | None:
    if "tool" in step:  # a named tool, called as it is, when the request offers it
        named = _find(call.tools, (step["tool"],))
        return (
            None
            if named is None
            else Action(tool=named.name, arguments=dict(step.get("input") or {}))
        )
    cwd = _cwd(call.text)
    if "write" in step:
        path, content = step["write"]["path"], step["write"]["content"]
        patch_tool = _find(call.tools, PATCH_TOOLS)
        if patch_tool is not None:
            lines = "".join(f"+{line}\n" for line in content.splitlines())
            patch = f"*** Begin Patch\n*** Add File: {path}\n{lines}*** End Patch\n"
            if patch_tool.kind == "custom":
                return Action(tool=patch_tool.name, custom_input=patch)
            return Action(tool=patch_tool.name, arguments={"input": patch})
        write_tool = _find(call.tools, WRITE_TOOLS)
        if write_tool is not None:
            key, full = _path_arg(write_tool, path, cwd)
            return Action(tool=write_tool.name, arguments={key: full, "content": content})
        shell_tool = _find(call.tools, SHELL_TOOLS)
        if shell_tool is not None:
            return _shell_call(shell_tool, _heredoc(path, content), cwd)
        return None
    if "shell" in step:
        shell_tool = _find(call.tools, SHELL_TOOLS)
        return None if shell_tool is None else _shell_call(shell_tool, step["shell"], cwd)
    raise ValueError(f"unknown step {step!r}")


def _aider_reply(scenario: Scenario, text: str) -> str:
    """aider offers no tools: it parses edits out of the reply in its edit format."""
    blocks = []
    diff = "SEARCH/REPLACE" in text and "file listing" not in text
    for step in scenario.steps:
        if "write" not in step:
            continue
        path, content = step["write"]["path"], step["write"]["content"]
        if not content.endswith("\n"):
            content += "\n"
        body = f"<<<<<<< SEARCH\n=======\n{content}>>>>>>> REPLACE\n" if diff else content
        blocks.append(f"{path}\n```\n{body}```\n")
    return "\n".join([*blocks, resolve_labels(scenario.final_text, text)])


def _json_for(schema: dict[str, Any]) -> Any:
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    kind = str(kind or "object").lower()
    if kind == "object":
        props = schema.get("properties") or {}
        return {key: _json_for(value) for key, value in props.items()}
    if kind == "array":
        return []
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return "ok"


def _next_action(scenario: Scenario, call: Call) -> Action:
    if call.json_schema is not None:
        return Action(text=json.dumps(_json_for(call.json_schema)))
    if not call.tools:
        if "file listing" in call.text or "SEARCH/REPLACE" in call.text:
            return Action(text=_aider_reply(scenario, call.text))
        return Action(text="OK")  # side requests: titles, commit messages
    if call.tool_results < len(scenario.steps):
        action = _tool_action(scenario.steps[call.tool_results], call)
        if action is not None:
            return action
    return Action(text=resolve_labels(scenario.final_text, call.text))


# --------------------------------------------------------------------------- rendering


def _id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:20]}"


def _sse(events: list[tuple[str | None, Any]]) -> bytes:
    out = []
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        out.append(f"{head}data: {data if isinstance(data, str) else json.dumps(data)}\n\n")
    return "".join(out).encode()


def _render_anthropic(
    call: Call, action: Action, usage: dict[str, int]
) -> tuple[int, dict[str, str], bytes]:
    if action.tool is not None:
        block: dict[str, Any] = {
            "type": "tool_use",
            "id": _id("toolu_"),
            "name": action.tool,
            "input": action.arguments or {},
        }
        stop = "tool_use"
    else:
        block = {"type": "text", "text": action.text or ""}
        stop = "end_turn"
    start_usage = {
        "input_tokens": usage["input"],
        "output_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    message: dict[str, Any] = {
        "id": _id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    if not call.stream:
        message.update(
            content=[block],
            stop_reason=stop,
            usage={**start_usage, "output_tokens": usage["output"]},
        )
        return 200, _JSON_HEADERS, _json(message)
    if block["type"] == "tool_use":
        first = {**block, "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    else:
        first = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": block["text"]}
    events: list[tuple[str | None, Any]] = [
        ("message_start", {"type": "message_start", "message": message}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": first},
        ),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": usage["output"]},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return 200, _SSE_HEADERS, _sse(events)


def _render_responses(
    call: Call, action: Action, usage: dict[str, int]
) -> tuple[int, dict[str, str], bytes]:
    if action.custom_input is not None:
        item: dict[str, Any] = {
            "type": "custom_tool_call",
            "id": _id("ctc_"),
            "call_id": _id("call_"),
            "name": action.tool,
            "input": action.custom_input,
            "status": "completed",
        }
    elif action.tool is not None:
        item = {
            "type": "function_call",
            "id": _id("fc_"),
            "call_id": _id("call_"),
            "name": action.tool,
            "arguments": json.dumps(action.arguments or {}),
            "status": "completed",
        }
    else:
        item = {
            "type": "message",
            "id": _id("msg_"),
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": action.text or "", "annotations": []}],
        }
    response = {
        "id": _id("resp_"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "model": call.model,
        "output": [],
    }
    done_usage = {
        "input_tokens": usage["input"],
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": usage["output"],
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage["input"] + usage["output"],
    }
    completed = {**response, "status": "completed", "output": [item], "usage": done_usage}
    if not call.stream:
        return 200, _JSON_HEADERS, _json(completed)
    events: list[tuple[str | None, Any]] = [
        ("response.created", {"type": "response.created", "response": response}),
    ]
    if item["type"] == "message":
        added = {**item, "status": "in_progress", "content": []}
        events += [
            (
                "response.output_item.added",
                {"type": "response.output_item.added", "output_index": 0, "item": added},
            ),
            (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "item_id": item["id"],
                    "output_index": 0,
                    "content_index": 0,
                    "delta": action.text or "",
                },
            ),
        ]
    else:
        events.append(
            (
                "response.output_item.added",
                {"type": "response.output_item.added", "output_index": 0, "item": item},
            )
        )
    events += [
        (
            "response.output_item.done",
            {"type": "response.output_item.done", "output_index": 0, "item": item},
        ),
        ("response.completed", {"type": "response.completed", "response": completed}),
    ]
    for seq, (_, data) in enumerate(events):
        data["sequence_number"] = seq
    return 200, _SSE_HEADERS, _sse(events)


def _render_chat(
    call: Call, action: Action, usage: dict[str, int]
) -> tuple[int, dict[str, str], bytes]:
    ident, created = _id("chatcmpl-"), int(time.time())
    chat_usage = {
        "prompt_tokens": usage["input"],
        "completion_tokens": usage["output"],
        "total_tokens": usage["input"] + usage["output"],
    }
    tool_calls = None
    if action.tool is not None:
        tool_calls = [
            {
                "id": _id("call_"),
                "type": "function",
                "function": {"name": action.tool, "arguments": json.dumps(action.arguments or {})},
            }
        ]
    finish = "tool_calls" if tool_calls else "stop"
    if not call.stream:
        message: dict[str, Any] = {"role": "assistant", "content": action.text}
        if tool_calls:
            message["tool_calls"] = tool_calls
        body = {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": call.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": chat_usage,
        }
        return 200, _JSON_HEADERS, _json(body)

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> tuple[None, dict[str, Any]]:
        data = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": call.model,
            "choices": choices,
        }
        return None, {**data, **extra}

    delta: dict[str, Any] = {"role": "assistant"}
    if tool_calls:
        delta["tool_calls"] = [{"index": 0, **tool_calls[0]}]
    else:
        delta["content"] = action.text or ""
    events: list[tuple[str | None, Any]] = [
        chunk([{"index": 0, "delta": delta, "finish_reason": None}]),
        chunk([{"index": 0, "delta": {}, "finish_reason": finish}]),
        chunk([], usage=chat_usage),
        (None, "[DONE]"),
    ]
    return 200, _SSE_HEADERS, _sse(events)


def _render_gemini(
    call: Call, action: Action, usage: dict[str, int]
) -> tuple[int, dict[str, str], bytes]:
    if action.tool is not None:
        part: dict[str, Any] = {
            "functionCall": {
                "id": _id("call_"),
                "name": action.tool,
                "args": action.arguments or {},
            }
        }
    else:
        part = {"text": action.text or ""}
    body = {
        "candidates": [
            {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {
            "promptTokenCount": usage["input"],
            "candidatesTokenCount": usage["output"],
            "totalTokenCount": usage["input"] + usage["output"],
        },
        "modelVersion": call.model,
        "responseId": _id(""),
    }
    if not call.stream:
        return 200, _JSON_HEADERS, _json(body)
    payload = f"data: {json.dumps(body)}\r\n\r\n".encode()
    return 200, _SSE_HEADERS, payload


_RENDER = {
    "anthropic": _render_anthropic,
    "responses": _render_responses,
    "chat": _render_chat,
    "gemini": _render_gemini,
}
