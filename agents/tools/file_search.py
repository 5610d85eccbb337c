"""The ``file_search`` tool: an agent searches the files its owner attached.

The scope is fixed when the run starts (agents.services.runs.run_spec_for,
from files.selectors.agent_file_scope): the agent **owner's** attached files
and collections. Whoever runs a public agent, it searches its owner's files
only, never the runner's or anyone else's; the model chooses the query, not
the files.

The result is JSON the model (and the run inspector) reads: each passage
with its citation (file name, page), the fused score and the vector and
keyword scores and ranks behind it, and, when nothing came back, why.
"""

from __future__ import annotations

import json
from typing import Any

from agents.tools.registry import BuiltinTool, ToolInputError, register

NAME = "file_search"
DEFAULT_K = 5
MAX_K = 10
REASONS = {
    "no_files": "No files are attached to this agent: its owner can attach "
    "files or collections in the builder.",
    "none_ready": "The attached files are still being processed, or failed: "
    "none is ready to search yet.",
    "no_match": "Nothing in the attached files matched: no passage was close "
    "enough in meaning and none contained the words searched for.",
}

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {
            "type": "string",
            "description": "What to look for, in words (a question works).",
        },
        "k": {
            "type": ["integer", "null"],
            "description": f"How many passages (1 to {MAX_K}; null for {DEFAULT_K}).",
        },
    },
    "required": ["query", "k"],
    "additionalProperties": False,
}


def _citation(hit) -> str:
    return f"{hit.file_name}, page {hit.page}" if hit.page else hit.file_name


def file_search(arguments: dict[str, Any], scope: dict) -> str:
    """Search ``scope`` (``owner_id`` and ``file_ids``) for ``query``."""
    from files.search import SearchResult, search_chunks

    query = arguments.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ToolInputError("query must be the words or question to search for.")
    k = arguments.get("k") or DEFAULT_K
    if not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ToolInputError(f"k must be a whole number from 1 to {MAX_K}.")
    owner_id = scope.get("owner_id")
    if owner_id is None:
        result = SearchResult(query=query.strip(), reason="no_files")
    else:
        result = search_chunks(
            owner_id=owner_id,
            query=query,
            k=k,
            file_ids=scope.get("file_ids") or [],
        )
    return json.dumps(
        {
            "query": result.query,
            "results": [
                {
                    "source": _citation(hit),
                    "file": hit.file_name,
                    "file_id": hit.file_id,
                    "page": hit.page,
                    "heading": hit.heading,
                    "text": hit.text,
                    "score": hit.score,
                    "vector_score": hit.vector_score,
                    "vector_rank": hit.vector_rank,
                    "keyword_score": hit.keyword_score,
                    "keyword_rank": hit.keyword_rank,
                }
                for hit in result.hits
            ],
            "files_searched": result.files_searched,
            "reason": result.reason,
            "explanation": REASONS.get(result.reason, ""),
        },
        ensure_ascii=False,
    )


TOOL = register(
    BuiltinTool(
        name=NAME,
        description=(
            "Search the files attached to this agent and get the most relevant "
            "passages with their sources (file name and page). Quote and cite them."
        ),
        parameters=PARAMETERS,
        handler=file_search,
        # Its options are the run's scope (see the module docstring), not
        # the agent's tool_options.
        takes_options=True,
        queries_database=True,
    )
)
