"""Deciding a turn: which behaviour applies (hand off, calculate, search, call a
matching tool, or answer), and the text of the answer."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from agents.runtime.demo_model.arithmetic import (
    ArithmeticStep,
    describe_operation,
    plan_arithmetic,
    show_calculation,
)
from agents.runtime.demo_model.constants import (
    CALCULATOR,
    FILE_SEARCH,
    MAX_PASSAGE_CHARACTERS,
    MAX_QUOTED_PASSAGES,
)
from agents.runtime.demo_model.conversation import Conversation
from agents.runtime.demo_model.schemas import ArgumentBuilder, fill_output
from agents.runtime.demo_model.words import (
    content_words,
    first_sentence,
    is_question,
    numbers_in,
    parse_number,
    shorten,
)
from agents.runtime.sdk import AgentOutputSchemaBase, FunctionTool
from agents.tools.calculator import format_number


@dataclass(frozen=True)
class ToolCallPlan:
    name: str
    arguments: dict[str, Any]
    thought: str


@dataclass(frozen=True)
class AnswerPlan:
    text: str
    number: int | float | None = None


Plan = ToolCallPlan | AnswerPlan


def _best_match(text: str, candidates: list[tuple[Any, str, str]]) -> Any | None:
    """The candidate whose (name, description) words best cover ``text``.

    A word in the name counts twice a word only in the description; ties go to
    the earlier candidate.
    """
    wanted = content_words(text)
    best, best_score = None, 0
    for candidate, name, description in candidates:
        name_words = content_words(re.sub(r"[_\-]", " ", name))
        other_words = content_words(description) - name_words
        score = 2 * len(wanted & name_words) + len(wanted & other_words)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _matched_words(text: str, *sources: str) -> list[str]:
    words = content_words(" ".join(re.sub(r"[_\-]", " ", s) for s in sources))
    return sorted(content_words(text) & words)


def _passages(output: str) -> list[dict[str, Any]] | None:
    try:
        data = json.loads(output)
    except (json.JSONDecodeError, TypeError):
        return None
    if isinstance(data, dict):
        data = data.get("results", data.get("data"))
    if not isinstance(data, list):
        return None
    return [item for item in data if isinstance(item, dict)]


def _quote_passages(query: str, output: str | None) -> str:
    if output is None:
        return f"I searched the files for {query!r} but got no result."
    passages = _passages(output)
    if passages is None:
        return f'The file search returned: "{shorten(output, 600)}"'
    if not passages:
        return f"I searched the files but found nothing relevant to: {query}"
    lines = ["Here is what the files say:"]
    for number, passage in enumerate(passages[:MAX_QUOTED_PASSAGES], start=1):
        text = shorten(str(passage.get("text", "")), MAX_PASSAGE_CHARACTERS)
        source = passage.get("source") or passage.get("filename") or "unknown source"
        lines.append(f'{number}. "{text}" (source: {source})')
    return "\n".join(lines)


def _calculator_plan(conversation: Conversation, steps: list[ArithmeticStep]) -> Plan:
    done = conversation.calls_to(CALCULATOR)
    results: list[int | float] = []
    for call in done:
        result = parse_number(call.output)
        if result is None:
            return AnswerPlan(f"The calculator could not do that: {call.output}")
        results.append(result)
    if len(done) < len(steps):
        step = steps[len(done)]
        previous = results[-1] if results else None
        if previous is None and conversation.earlier_answer:
            # "Then multiply by 3" continues from the conversation's last answer.
            earlier = numbers_in(conversation.earlier_answer)
            previous = earlier[-1] if earlier else None
        arguments = step.arguments(previous)
        if results:
            thought = f"Next, {describe_operation(arguments)}; I'll use the calculator."
        else:
            thought = (
                f"The user asked to {describe_operation(arguments)}; "
                "I'll use the calculator."
            )
        return ToolCallPlan(CALCULATOR, arguments, thought)
    workings = ", then ".join(
        f"{show_calculation(call.arguments)} = {call.output}" for call in done
    )
    answer = format_number(results[-1])
    return AnswerPlan(f"{workings}. The answer is {answer}.", number=results[-1])


def decide(
    *,
    conversation: Conversation,
    system_instructions: str | None,
    tools: list[Any],
    handoffs: list[Any],
    tool_choice: str | None = None,
) -> Plan:
    """What to do this turn: call one tool (or hand off), or answer."""
    text = conversation.user_text
    function_tools = {}
    if tool_choice != "none":
        function_tools = {t.name: t for t in tools if isinstance(t, FunctionTool)}

    forced = function_tools.get(tool_choice or "")
    if forced is not None and not conversation.calls_to(forced.name):
        # A tool choice that names a tool: call it first, as real models must.
        return ToolCallPlan(
            forced.name,
            ArgumentBuilder(text).build(forced.params_json_schema),
            f"The agent must call {forced.name}; I'll call it.",
        )

    if handoffs and not conversation.calls:
        target = _best_match(
            text, [(h, h.agent_name, h.tool_description) for h in handoffs]
        )
        if target is not None:
            words = _matched_words(text, target.agent_name, target.tool_description)
            return ToolCallPlan(
                target.tool_name,
                ArgumentBuilder(text).build(target.input_json_schema),
                f"The request is about {', '.join(words)}; "
                f"I'll hand it to {target.agent_name}.",
            )

    if CALCULATOR in function_tools:
        steps = plan_arithmetic(
            text, continues=bool(numbers_in(conversation.earlier_answer))
        )
        if steps:
            return _calculator_plan(conversation, steps)

    if FILE_SEARCH in function_tools and is_question(text):
        searches = conversation.calls_to(FILE_SEARCH)
        if searches:
            return AnswerPlan(_quote_passages(text, searches[-1].output))
        schema = function_tools[FILE_SEARCH].params_json_schema
        return ToolCallPlan(
            FILE_SEARCH,
            ArgumentBuilder(text, overrides={"query": text}).build(schema),
            f"This is a question; I'll search the files for: {shorten(text, 120)}",
        )

    chosen = _best_match(
        text, [(t, t.name, t.description or "") for t in function_tools.values()]
    )
    if chosen is not None:
        earlier = conversation.calls_to(chosen.name)
        if earlier:
            result = earlier[-1].output or "(no output)"
            return AnswerPlan(
                f"{chosen.name} says: {result}", number=parse_number(result)
            )
        words = _matched_words(text, chosen.name, chosen.description or "")
        return ToolCallPlan(
            chosen.name,
            ArgumentBuilder(text).build(chosen.params_json_schema),
            f"The request mentions {', '.join(words)}; I'll call {chosen.name}.",
        )

    return AnswerPlan(_plain_reply(text, system_instructions))


def _plain_reply(text: str, system_instructions: str | None) -> str:
    heard = shorten(text, 160) or "(nothing)"
    instructions = first_sentence(system_instructions or "")
    if instructions:
        return (
            f'[Demo model] My instructions say: "{instructions}" '
            f'A real model would now answer your message: "{heard}"'
        )
    return f'[Demo model] A real model would now answer your message: "{heard}"'


def answer_text(
    plan: AnswerPlan,
    *,
    conversation: Conversation,
    output_schema: AgentOutputSchemaBase | None,
) -> str:
    """The final answer, as JSON when the agent has a structured output type."""
    if output_schema is None or output_schema.is_plain_text():
        return plan.text
    number = plan.number
    if number is None:
        found = numbers_in(conversation.user_text)
        number = found[0] if found else 0
    value = fill_output(
        output_schema.json_schema(),
        answer=plan.text,
        question=conversation.user_text,
        number=number,
    )
    return json.dumps(value, ensure_ascii=False)
