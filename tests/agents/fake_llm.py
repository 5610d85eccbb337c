"""A local fake model provider on 127.0.0.1, for tests.

It speaks four providers' real wire formats, so the real client libraries
(``openai.AsyncOpenAI``, ``litellm``) and the SDK's model classes talk to it
unchanged:

* OpenAI: ``GET /v1/models``, ``POST /v1/responses`` and
  ``POST /v1/chat/completions``, plain JSON or streamed (server-sent events);
  ``Authorization: Bearer <key>``. Bodies are built with ``openai``'s own types.
* Azure OpenAI: ``POST /openai/deployments/<deployment>/chat/completions
  ?api-version=...`` (Chat Completions again) and ``GET /openai/models``,
  ``api-key: <key>``.
* Ollama: ``GET /api/tags`` lists ``models`` in Ollama's shape; its
  OpenAI-compatible API is the OpenAI one above under ``/v1``.
* Anthropic Messages: ``POST /v1/messages``, plain or streamed; ``x-api-key``.
  litellm's ``anthropic/<model>`` with ``base_url=B`` posts to ``B/v1/messages``
  (it appends ``/v1/messages`` unless ``B`` already ends with it).
* OpenAI embeddings: ``POST /v1/embeddings``, one vector of the requested
  ``dimensions`` per input (a 1.0 at the input's position, else 0.0).
* Gemini (Google AI Studio): ``POST /models/<model>:generateContent`` and
  ``POST /models/<model>:streamGenerateContent?alt=sse``, with or without a
  ``/v1beta`` (or ``/v1alpha``, ``/v1``) prefix; ``x-goog-api-key`` header or
  ``?key=``. litellm's ``gemini/<model>`` with ``base_url=B`` posts to
  ``B/models/<model>:generateContent``, streamed to
  ``B/models/<model>:streamGenerateContent?alt=sse``.

``script`` holds the turns to play, one per model request whatever the format;
when it is empty the reply is ``Echo: <text of the last user message>``. Every
request is recorded in ``requests``: path (without the query), method, key
(the credential found, or None), body (parsed JSON, or None), and also query,
headers and provider. ``keys=None`` accepts any key (a keyless local server).
``redirect_to`` (a base URL), when set, answers every request with a 307 to the
same path there, as a provider behind a redirect would. ``listing`` (a
:class:`Listing`) changes how model lists (``/v1/models``, ``/api/tags``) are
answered: late, with a body of its own, or with a status.

    with FakeLLM() as fake:
        fake.script = [call("add", {"a": 2, "b": 3}), text("5")]
        client = AsyncOpenAI(base_url=fake.openai_base_url, api_key="sk-test")
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseInProgressEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
)
from openai.types.responses.response_usage import (
    InputTokensDetails,
    OutputTokensDetails,
)

DEFAULT_KEYS = frozenset({"sk-test"})
DEFAULT_MODELS = ("gpt-4.1-mini", "llama3.1")

OPENAI, ANTHROPIC, GEMINI = "openai", "anthropic", "gemini"

NOT_JSON = "this is not JSON {"
WRONG_SHAPE = "[1, 2]"

_GEMINI_PATH = re.compile(
    r"^(?:/v1beta|/v1alpha|/v1)?/models/(?P<model>[^/:]+)"
    r":(?P<method>generateContent|streamGenerateContent)$"
)
_GEMINI_MODELS_PATH = re.compile(r"^(?:/v1beta|/v1alpha|/v1)?/models/?$")
_AZURE_CHAT_PATH = re.compile(
    r"^/openai/deployments/(?P<deployment>[^/]+)/chat/completions$"
)
OLLAMA = "ollama"


@dataclass(frozen=True)
class Listing:
    """How a model list is answered: after ``delay`` seconds (or once
    ``release`` is set, 30 s at most), with ``status``, and with ``body``
    (bytes sent as they are) instead of the real list."""

    delay: float = 0.0
    release: threading.Event | None = None
    status: int = 200
    body: bytes | None = None
    content_type: str = "application/json"


# --- turns ------------------------------------------------------------------


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict
    id: str | None = None


@dataclass(frozen=True)
class Turn:
    """One scripted reply. Build it with text(), call(), fail(), garbage(), hang()."""

    kind: str  # "reply" | "fail" | "garbage" | "hang"
    text: str | None = None
    calls: tuple[ToolCall, ...] = ()
    status: int = 200
    message: str | None = ""
    headers: dict | None = None
    seconds: float = 0.0
    then: Turn | None = None


def text(content: str) -> Turn:
    """The model answers with this text."""
    return Turn("reply", text=content)


def call(name: str, arguments: dict, id: str | None = None) -> Turn:
    """The model calls one function/tool with these arguments.

    ``id`` is the call's id on the wire (generated if not given; Gemini's
    format has none).
    """
    return Turn("reply", calls=(ToolCall(name, dict(arguments), id),))


def fail(status: int, message: str, headers: dict | None = None) -> Turn:
    """An HTTP error in the provider's own error JSON shape (e.g. 429 + retry-after)."""
    return Turn("fail", status=status, message=message, headers=headers)


def garbage(body: str | None = None) -> Turn:
    """A 200 whose body is not valid for the format.

    Plain: ``body`` or a text that is not JSON. Streamed: one server-sent event
    whose data is ``body`` or, by default, not JSON for OpenAI and JSON of the
    wrong shape (a list) for Anthropic and Gemini: litellm's stream parsers for
    those buffer data that is not JSON as a fragment of the next event, and at
    the end Anthropic's yields an empty answer while Gemini's loops forever.
    """
    return Turn("garbage", message=body)


def hang(seconds: float, then: Turn | None = None) -> Turn:
    """Sleep before answering, then answer with ``then`` (default: the echo)."""
    return Turn("hang", seconds=seconds, then=then)


# --- helpers ------------------------------------------------------------------


def _tokens(value: Any) -> int:
    size = len(value if isinstance(value, str) else json.dumps(value or ""))
    return max(1, math.ceil(size / 4))


def _pieces(value: str) -> list[str]:
    """``value`` in word-sized pieces that join back to exactly ``value``."""
    return re.findall(r"\s*\S+\s*", value) or [value]


def _chunks(value: str, size: int = 8) -> list[str]:
    return [value[i : i + size] for i in range(0, len(value), size)] or [""]


def _hex(n: int = 24) -> str:
    return uuid.uuid4().hex[:n]


def _texts(content: Any) -> str:
    """The text of a message's content, whatever the format's part shapes."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    parts = []
    for part in content or []:
        if isinstance(part, str):
            parts.append(part)
        elif (
            isinstance(part, dict)
            and part.get("type") in (None, "text", "input_text")
            and isinstance(part.get("text"), str)
        ):
            parts.append(part["text"])
    return "".join(parts)


def last_user_text(provider: str, body: Any) -> str:
    """The text of the last user message carrying text, in any format."""
    if not isinstance(body, dict):
        return ""
    if provider == GEMINI:
        messages = [
            (item.get("role"), item.get("parts"))
            for item in body.get("contents") or []
            if isinstance(item, dict)
        ]
    elif "input" in body:  # Responses
        if isinstance(body["input"], str):
            return body["input"]
        messages = [
            (item.get("role"), item.get("content"))
            for item in body.get("input") or []
            if isinstance(item, dict)
        ]
    else:  # Chat Completions, Anthropic
        messages = [
            (item.get("role"), item.get("content"))
            for item in body.get("messages") or []
            if isinstance(item, dict)
        ]
    for role, content in reversed(messages):
        if role == "user":
            found = _texts(content)
            if found:
                return found
    return ""


@dataclass
class _Reply:
    text: str | None
    calls: list[tuple[str, str, dict]] = field(default_factory=list)  # id, name, args
    input_tokens: int = 1

    @property
    def output_tokens(self) -> int:
        return _tokens((self.text or "") + json.dumps([c[1:] for c in self.calls]))


# --- error shapes -------------------------------------------------------------

_OPENAI_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
_ANTHROPIC_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_GEMINI_ERRORS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error_body(provider: str, status: int, message: str) -> dict:
    if provider == ANTHROPIC:
        kind = _ANTHROPIC_ERRORS.get(status, "api_error")
        return {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": f"req_{_hex()}",
        }
    if provider == GEMINI:
        return {
            "error": {
                "code": status,
                "message": message,
                "status": _GEMINI_ERRORS.get(status, "UNKNOWN"),
            }
        }
    kind, code = _OPENAI_ERRORS.get(status, ("server_error", None))
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


_UNAUTHORISED = {
    OPENAI: "Incorrect API key provided.",
    ANTHROPIC: "invalid x-api-key",
    GEMINI: "API key not valid. Please pass a valid API key.",
}


# --- OpenAI Responses ---------------------------------------------------------


def _response_output(reply: _Reply) -> list[Any]:
    output: list[Any] = []
    if reply.text is not None:
        output.append(
            ResponseOutputMessage(
                id=f"msg_{_hex()}",
                type="message",
                role="assistant",
                status="completed",
                content=[
                    ResponseOutputText(
                        type="output_text", text=reply.text, annotations=[]
                    )
                ],
            )
        )
    for call_id, name, arguments in reply.calls:
        output.append(
            ResponseFunctionToolCall(
                id=f"fc_{_hex()}",
                type="function_call",
                call_id=call_id,
                name=name,
                arguments=json.dumps(arguments),
                status="completed",
            )
        )
    return output


def responses_events(model: str, reply: _Reply) -> list[Any]:
    """The Responses API stream for one reply; the last event holds the response."""
    output = _response_output(reply)
    response = Response(
        id=f"resp_{_hex()}",
        object="response",
        created_at=int(time.time()),
        model=model,
        output=output,
        status="completed",
        tool_choice="auto",
        tools=[],
        top_p=None,
        parallel_tool_calls=True,
        usage=ResponseUsage(
            input_tokens=reply.input_tokens,
            input_tokens_details=InputTokensDetails(
                cached_tokens=0, cache_write_tokens=0
            ),
            output_tokens=reply.output_tokens,
            output_tokens_details=OutputTokensDetails(reasoning_tokens=0),
            total_tokens=reply.input_tokens + reply.output_tokens,
        ),
    )
    seq = iter(range(1_000_000))
    pending = response.model_copy(
        update={"output": [], "status": "in_progress", "usage": None}
    )
    events: list[Any] = [
        ResponseCreatedEvent(
            type="response.created", response=pending, sequence_number=next(seq)
        ),
        ResponseInProgressEvent(
            type="response.in_progress", response=pending, sequence_number=next(seq)
        ),
    ]
    for index, item in enumerate(output):
        if isinstance(item, ResponseOutputMessage):
            started = item.model_copy(update={"content": [], "status": "in_progress"})
        else:
            started = item.model_copy(update={"arguments": "", "status": "in_progress"})
        events.append(
            ResponseOutputItemAddedEvent(
                type="response.output_item.added",
                item=started,
                output_index=index,
                sequence_number=next(seq),
            )
        )
        if isinstance(item, ResponseOutputMessage):
            part = item.content[0]
            common = {"item_id": item.id, "output_index": index, "content_index": 0}
            events.append(
                ResponseContentPartAddedEvent(
                    type="response.content_part.added",
                    part=part.model_copy(update={"text": ""}),
                    sequence_number=next(seq),
                    **common,
                )
            )
            for piece in _pieces(part.text):
                events.append(
                    ResponseTextDeltaEvent(
                        type="response.output_text.delta",
                        delta=piece,
                        logprobs=[],
                        sequence_number=next(seq),
                        **common,
                    )
                )
            events.append(
                ResponseTextDoneEvent(
                    type="response.output_text.done",
                    text=part.text,
                    logprobs=[],
                    sequence_number=next(seq),
                    **common,
                )
            )
            events.append(
                ResponseContentPartDoneEvent(
                    type="response.content_part.done",
                    part=part,
                    sequence_number=next(seq),
                    **common,
                )
            )
        else:
            for piece in _chunks(item.arguments):
                events.append(
                    ResponseFunctionCallArgumentsDeltaEvent(
                        type="response.function_call_arguments.delta",
                        item_id=item.id,
                        output_index=index,
                        delta=piece,
                        sequence_number=next(seq),
                    )
                )
            events.append(
                ResponseFunctionCallArgumentsDoneEvent(
                    type="response.function_call_arguments.done",
                    item_id=item.id,
                    output_index=index,
                    name=item.name,
                    arguments=item.arguments,
                    sequence_number=next(seq),
                )
            )
        events.append(
            ResponseOutputItemDoneEvent(
                type="response.output_item.done",
                item=item,
                output_index=index,
                sequence_number=next(seq),
            )
        )
    events.append(
        ResponseCompletedEvent(
            type="response.completed", response=response, sequence_number=next(seq)
        )
    )
    return events


# --- OpenAI Chat Completions --------------------------------------------------


def _chat_usage(reply: _Reply) -> dict:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
    }


def chat_completion(model: str, reply: _Reply) -> dict:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.text,
        "refusal": None,
    }
    if reply.calls:
        message["tool_calls"] = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            for call_id, name, arguments in reply.calls
        ]
    completion = ChatCompletion.model_validate(
        {
            "id": f"chatcmpl-{_hex()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if reply.calls else "stop",
                }
            ],
            "usage": _chat_usage(reply),
        }
    )
    return completion.model_dump(mode="json", exclude_unset=True)


def chat_chunks(model: str, reply: _Reply, include_usage: bool) -> list[dict]:
    base = {
        "id": f"chatcmpl-{_hex()}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }

    def chunk(delta: dict, finish_reason: str | None = None) -> dict:
        data = {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": delta,
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
        }
        if include_usage:
            data["usage"] = None
        return data

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
    if reply.text is not None:
        chunks += [chunk({"content": piece}) for piece in _pieces(reply.text)]
    for index, (call_id, name, arguments) in enumerate(reply.calls):
        chunks.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call_id,
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }
                    ]
                }
            )
        )
        chunks += [
            chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            for piece in _chunks(json.dumps(arguments))
        ]
    chunks.append(chunk({}, "tool_calls" if reply.calls else "stop"))
    if include_usage:
        chunks.append({**base, "choices": [], "usage": _chat_usage(reply)})
    return [
        ChatCompletionChunk.model_validate(data).model_dump(
            mode="json", exclude_unset=True
        )
        for data in chunks
    ]


# --- Anthropic Messages -------------------------------------------------------


def _anthropic_blocks(reply: _Reply) -> list[dict]:
    blocks: list[dict] = []
    if reply.text is not None:
        blocks.append({"type": "text", "text": reply.text})
    for call_id, name, arguments in reply.calls:
        blocks.append(
            {"type": "tool_use", "id": call_id, "name": name, "input": arguments}
        )
    return blocks


def anthropic_message(model: str, reply: _Reply) -> dict:
    return {
        "id": f"msg_{_hex()}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _anthropic_blocks(reply),
        "stop_reason": "tool_use" if reply.calls else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def anthropic_events(model: str, reply: _Reply) -> list[dict]:
    message = anthropic_message(model, reply)
    started = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {**message["usage"], "output_tokens": 1},
    }
    events: list[dict] = [
        {"type": "message_start", "message": started},
        {"type": "ping"},
    ]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                }
            )
            events += [
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": piece},
                }
                for piece in _pieces(block["text"])
            ]
        else:
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {**block, "input": {}},
                }
            )
            events += [
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                }
                for piece in _chunks(json.dumps(block["input"]))
            ]
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": message["usage"]["output_tokens"]},
        }
    )
    events.append({"type": "message_stop"})
    return events


# --- Gemini -------------------------------------------------------------------


def _gemini_usage(reply: _Reply) -> dict:
    return {
        "promptTokenCount": reply.input_tokens,
        "candidatesTokenCount": reply.output_tokens,
        "totalTokenCount": reply.input_tokens + reply.output_tokens,
    }


def _gemini_candidate(parts: list[dict], finish: bool) -> dict:
    candidate: dict[str, Any] = {
        "content": {"parts": parts, "role": "model"},
        "index": 0,
    }
    if finish:
        candidate["finishReason"] = "STOP"
    return candidate


def gemini_response(model: str, reply: _Reply) -> dict:
    parts: list[dict] = []
    if reply.text is not None:
        parts.append({"text": reply.text})
    parts += [
        {"functionCall": {"name": name, "args": arguments}}
        for _, name, arguments in reply.calls
    ]
    return {
        "candidates": [_gemini_candidate(parts, finish=True)],
        "usageMetadata": _gemini_usage(reply),
        "modelVersion": model,
        "responseId": _hex(),
    }


def gemini_chunks(model: str, reply: _Reply) -> list[dict]:
    response_id = _hex()
    pieces: list[list[dict]] = []
    if reply.text is not None:
        pieces += [[{"text": piece}] for piece in _pieces(reply.text)]
    if reply.calls:
        # Gemini sends function calls whole, never in pieces.
        pieces.append(
            [
                {"functionCall": {"name": name, "args": arguments}}
                for _, name, arguments in reply.calls
            ]
        )
    pieces = pieces or [[{"text": ""}]]
    chunks = []
    for position, parts in enumerate(pieces):
        last = position == len(pieces) - 1
        chunk: dict[str, Any] = {
            "candidates": [_gemini_candidate(parts, finish=last)],
            "modelVersion": model,
            "responseId": response_id,
        }
        if last:
            chunk["usageMetadata"] = _gemini_usage(reply)
        chunks.append(chunk)
    return chunks


# --- the server ---------------------------------------------------------------


class FakeLLM:
    """A fake OpenAI / Anthropic / Gemini endpoint on 127.0.0.1 (a context manager).

    ``keys`` are the accepted credentials (``None`` accepts anything, like a
    keyless local server); ``models`` is what ``GET /v1/models`` lists;
    ``delay`` is how long each model request takes before its answer starts;
    ``host`` and ``port`` where it listens (any 127.x address is loopback).
    """

    def __init__(
        self,
        *,
        keys: set[str] | frozenset[str] | None = DEFAULT_KEYS,
        models: list[str] | tuple[str, ...] = DEFAULT_MODELS,
        delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.keys = set(keys) if keys is not None else None
        self.models = list(models)
        # Seconds every model request takes, as a real provider's would.
        self.delay = delay
        self.redirect_to: str | None = None
        self.listing = Listing()
        self.requests: list[dict] = []
        self.script: list[Turn] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self.httpd.daemon_threads = True
        # Do not wait at shutdown for handlers still sleeping in a hang().
        self.httpd.block_on_close = False
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="fake-llm", daemon=True
        )
        host, self.port = self.httpd.server_address[:2]
        self.base_url = f"http://{host}:{self.port}"
        self.openai_base_url = self.base_url + "/v1"

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    # The requests that reached a model endpoint (not GET /v1/models).
    @property
    def model_requests(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST"]

    def _record(self, entry: dict) -> None:
        with self._lock:
            self.requests.append(entry)

    def _next_turn(self) -> Turn | None:
        with self._lock:
            return self.script.pop(0) if self.script else None


def _handler_for(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeLLM/1.0"

        def log_message(self, *args):
            pass

        # -- plumbing --

        def _send(
            self,
            status: int,
            data: bytes,
            content_type: str,
            headers: dict | None = None,
        ) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, str(value))
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except OSError:
                pass  # the client gave up (a timeout)

        def _json(self, status: int, body: Any, headers: dict | None = None) -> None:
            self._send(status, json.dumps(body).encode(), "application/json", headers)

        def _sse(self, frames: list[str]) -> None:
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                for frame in frames:
                    self.wfile.write(frame.encode())
                    self.wfile.flush()
            except OSError:
                pass
            self.close_connection = True

        def _credential(self, provider: str, query: dict) -> str | None:
            bearer = self.headers.get("Authorization")
            bearer = bearer.removeprefix("Bearer ").strip() if bearer else None
            if provider == ANTHROPIC:
                return self.headers.get("x-api-key") or bearer
            if provider == OPENAI and self.headers.get("api-key"):
                return self.headers.get("api-key")  # Azure's header
            if provider == GEMINI:
                return (
                    self.headers.get("x-goog-api-key")
                    or (query.get("key") or [None])[0]
                    or bearer
                )
            return bearer

        def _route(self, path: str) -> tuple[str, str, str | None] | None:
            """(provider, endpoint, model in path) for this path, or None."""
            if self.command == "GET":
                if path.rstrip("/") == "/v1/models":
                    provider = ANTHROPIC if "x-api-key" in self.headers else OPENAI
                    return provider, "models", None
                if _GEMINI_MODELS_PATH.match(path):
                    return GEMINI, "models", None
                if path == "/api/tags":
                    return OLLAMA, "models", None
                if path == "/openai/models":  # Azure OpenAI's
                    return OPENAI, "models", None
                return None
            if path == "/v1/responses":
                return OPENAI, "responses", None
            if path == "/v1/chat/completions":
                return OPENAI, "chat", None
            match = _AZURE_CHAT_PATH.match(path)
            if match:
                return OPENAI, "chat", match["deployment"]
            if path == "/v1/embeddings":
                return OPENAI, "embeddings", None
            if path == "/v1/messages":
                return ANTHROPIC, "messages", None
            match = _GEMINI_PATH.match(path)
            if match:
                return GEMINI, match["method"], match["model"]
            return None

        def _handle(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            raw = b""
            if self.command == "POST":
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            if fake.redirect_to:
                fake._record({"path": url.path, "method": self.command})
                location = fake.redirect_to + self.path
                self._send(307, b"", "text/plain", {"Location": location})
                return
            route = self._route(url.path)
            provider = route[0] if route else OPENAI
            key = self._credential(provider, query)
            fake._record(
                {
                    "path": url.path,
                    "method": self.command,
                    "key": key,
                    "body": body,
                    "query": {name: values[-1] for name, values in query.items()},
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "provider": provider,
                }
            )
            if route is None:
                self._json(404, error_body(provider, 404, f"No route {url.path}"))
                return
            # Ollama takes no key.
            if provider != OLLAMA and fake.keys is not None and key not in fake.keys:
                self._json(401, error_body(provider, 401, _UNAUTHORISED[provider]))
                return
            provider, endpoint, path_model = route
            if endpoint == "models":
                self._models(provider)
                return
            if endpoint == "embeddings":
                self._embeddings(body)
                return
            if fake.delay:
                time.sleep(fake.delay)
            self._answer(provider, endpoint, path_model, body, query)

        def do_GET(self):
            self._handle()

        def do_POST(self):
            self._handle()

        # -- endpoints --

        def _models(self, provider: str) -> None:
            listing = fake.listing
            if listing.delay:
                time.sleep(listing.delay)
            if listing.release is not None:
                listing.release.wait(30)
            if listing.body is not None or listing.status != 200:
                body = listing.body if listing.body is not None else b"{}"
                self._send(listing.status, body, listing.content_type)
                return
            if provider == OLLAMA:
                models = [
                    {
                        "name": name,
                        "model": name,
                        "modified_at": "2025-01-01T00:00:00Z",
                        "size": 2_019_393_189,
                        "digest": _hex(64),
                        "details": {"family": "llama", "format": "gguf"},
                    }
                    for name in fake.models
                ]
                self._json(200, {"models": models})
            elif provider == ANTHROPIC:
                data = [
                    {
                        "id": name,
                        "type": "model",
                        "display_name": name,
                        "created_at": "2025-01-01T00:00:00Z",
                    }
                    for name in fake.models
                ]
                self._json(
                    200,
                    {
                        "data": data,
                        "has_more": False,
                        "first_id": data[0]["id"] if data else None,
                        "last_id": data[-1]["id"] if data else None,
                    },
                )
            elif provider == GEMINI:
                models = [
                    {
                        "name": f"models/{name}",
                        "displayName": name,
                        "supportedGenerationMethods": [
                            "generateContent",
                            "countTokens",
                        ],
                    }
                    for name in fake.models
                ]
                self._json(200, {"models": models})
            else:
                data = [
                    {"id": name, "object": "model", "created": 0, "owned_by": "fake"}
                    for name in fake.models
                ]
                self._json(200, {"object": "list", "data": data})

        def _embeddings(self, body: Any) -> None:
            texts = body.get("input") if isinstance(body, dict) else None
            texts = [texts] if isinstance(texts, str) else texts
            if not isinstance(texts, list):
                self._json(400, error_body(OPENAI, 400, "input must be a list."))
                return
            size = int(body.get("dimensions") or 8)
            data = [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": [1.0 if j == i % size else 0.0 for j in range(size)],
                }
                for i in range(len(texts))
            ]
            usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
            self._json(
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": body["model"],
                    "usage": usage,
                },
            )

        def _answer(
            self,
            provider: str,
            endpoint: str,
            path_model: str | None,
            body: Any,
            query: dict,
        ) -> None:
            if not isinstance(body, dict):
                self._json(400, error_body(provider, 400, "Invalid JSON body."))
                return
            turn = fake._next_turn()
            while turn is not None and turn.kind == "hang":
                time.sleep(turn.seconds)
                turn = turn.then
            stream = (
                endpoint == "streamGenerateContent"
                if provider == GEMINI
                else bool(body.get("stream"))
            )
            if turn is not None and turn.kind == "fail":
                self._json(
                    turn.status,
                    error_body(provider, turn.status, turn.message),
                    turn.headers,
                )
                return
            if turn is not None and turn.kind == "garbage":
                if stream:
                    data = turn.message or (
                        NOT_JSON if provider == OPENAI else WRONG_SHAPE
                    )
                    self._sse([f"data: {data}\n\n"])
                else:
                    data = turn.message or NOT_JSON
                    self._send(200, data.encode(), "application/json")
                return
            if turn is None:
                turn = text(f"Echo: {last_user_text(provider, body)}")
            prefix = {OPENAI: "call_", ANTHROPIC: "toolu_", GEMINI: "call_"}[provider]
            reply = _Reply(
                text=turn.text,
                calls=[
                    (c.id or prefix + _hex(), c.name, c.arguments) for c in turn.calls
                ],
                input_tokens=_tokens(body),
            )
            model = path_model or body.get("model") or "fake"
            if endpoint == "responses":
                events = responses_events(model, reply)
                if stream:
                    self._sse(
                        [
                            f"event: {e.type}\n"
                            f"data: {e.model_dump_json(exclude_unset=True)}\n\n"
                            for e in events
                        ]
                    )
                else:
                    final = events[-1].response
                    self._json(200, final.model_dump(mode="json", exclude_unset=True))
            elif endpoint == "chat":
                if stream:
                    options = body.get("stream_options") or {}
                    chunks = chat_chunks(
                        model, reply, bool(options.get("include_usage"))
                    )
                    frames = [f"data: {json.dumps(c)}\n\n" for c in chunks]
                    self._sse([*frames, "data: [DONE]\n\n"])
                else:
                    self._json(200, chat_completion(model, reply))
            elif endpoint == "messages":
                if stream:
                    self._sse(
                        [
                            f"event: {e['type']}\ndata: {json.dumps(e)}\n\n"
                            for e in anthropic_events(model, reply)
                        ]
                    )
                else:
                    self._json(200, anthropic_message(model, reply))
            elif stream and (query.get("alt") or [""])[-1] != "sse":
                # Without alt=sse Gemini streams one JSON array of the chunks.
                self._json(200, gemini_chunks(model, reply))
            elif stream:
                self._sse(
                    [
                        f"data: {json.dumps(c)}\r\n\r\n"
                        for c in gemini_chunks(model, reply)
                    ]
                )
            else:
                self._json(200, gemini_response(model, reply))

    return Handler
