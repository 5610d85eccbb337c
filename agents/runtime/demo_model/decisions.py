"""Deciding a turn: which behaviour applies, and the text of the answer.

In order: a tool the settings force; a handoff; a review (an output with a
pass/revise verdict); arithmetic through the calculator tool; a question
over the agent's files; a summary; a classification (an output with an
enum); arithmetic without the tool; a tool whose name or description
matches; otherwise an honest answer that this needs a real model."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from agents.runtime.demo_model.arithmetic import (
    ArithmeticStep,
    describe_operation,
    plan_arithmetic,
    show_calculation,
)
from agents.runtime.demo_model.classify import classify, enum_fields
from agents.runtime.demo_model.classify import describe as describe_choices
from agents.runtime.demo_model.constants import CALCULATOR, FILE_SEARCH
from agents.runtime.demo_model.conversation import Conversation
from agents.runtime.demo_model.honest import cannot_parse_arithmetic, cannot_write
from agents.runtime.demo_model.matching import best_match, matched_words, zone_tool
from agents.runtime.demo_model.passages import (
    answer_from_passages,
    citation,
    read_passages,
    relevant,
    topic,
)
from agents.runtime.demo_model.phrasing import (
    already_worked_out,
    looks_like_arithmetic,
)
from agents.runtime.demo_model.plans import AnswerPlan, Plan, ToolCallPlan
from agents.runtime.demo_model.review import is_review_schema, verdict
from agents.runtime.demo_model.schemas import (
    ArgumentBuilder,
    fill_output,
    non_null,
    resolve,
)
from agents.runtime.demo_model.summaries import (
    SummaryRequest,
    is_summary_request,
    read_request,
    summarize,
)
from agents.runtime.demo_model.summaries import describe as describe_summary
from agents.runtime.demo_model.words import (
    content_words,
    is_question,
    numbers_in,
    parse_number,
    shorten,
)
from agents.runtime.sdk import AgentOutputSchemaBase, FunctionTool
from agents.tools.calculator import calculate, format_number
from agents.tools.registry import ToolInputError

# What a request for a summary says about its form, not its subject.
COMMAND_WORDS = re.compile(
    r"\b(?:summari[sz]e|summary|tl;?dr|bullets?|points?|sentences?|\d+|one|two|"
    r"three|four|five)\b",
    re.IGNORECASE,
)
# Instructions that make an agent a summarizer of whatever it is given.
SUMMARY_ROLE = re.compile(r"\b(?:summari[sz]e|condense)\b", re.IGNORECASE)


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


def _internal_arithmetic(steps: list[ArithmeticStep], earlier: str) -> AnswerPlan:
    """The calculator's own evaluator, run here: for agents without the tool."""
    found = numbers_in(earlier)
    previous: int | float | None = found[-1] if found else None
    workings = []
    for step in steps:
        arguments = step.arguments(previous)
        try:
            result = calculate(arguments)
        except ToolInputError as error:
            return AnswerPlan(f"I could not compute that: {error}")
        workings.append(f"{show_calculation(arguments)} = {result}")
        previous = parse_number(result)
    return AnswerPlan(
        f"{', then '.join(workings)}. The answer is {format_number(previous or 0)}. "
        "(Computed by the offline model with the calculator's evaluator: this "
        "agent has no calculator tool.)",
        number=previous,
    )


def _search_files(
    tool: FunctionTool, query: str, thought: str, k: int | None = None
) -> Plan:
    arguments = ArgumentBuilder(query, overrides={"query": query}).build(
        tool.params_json_schema
    )
    if k is not None and "k" in arguments:
        arguments["k"] = k
    return ToolCallPlan(FILE_SEARCH, arguments, thought)


def _summary_plan(
    conversation: Conversation,
    request: SummaryRequest,
    function_tools: dict[str, FunctionTool],
) -> Plan:
    if request.text:
        summary = summarize(request.text, count=request.count, bullets=request.bullets)
        return AnswerPlan(
            f"{describe_summary(summary, bullets=request.bullets)}\n{summary}"
        )
    if FILE_SEARCH not in function_tools:
        return AnswerPlan(
            "Paste the text to summarize after the request (for example "
            "“Summarize: …”), or attach files to this agent: the offline model "
            "summarizes by picking the most central sentences."
        )
    searches = conversation.calls_to(FILE_SEARCH)
    if not searches:
        return _search_files(
            function_tools[FILE_SEARCH],
            topic(COMMAND_WORDS.sub(" ", conversation.user_text)),
            "This asks for a summary of the files; I'll read the passages first.",
            k=10,
        )
    read = read_passages(searches[-1].output)
    passages = read[0] if read else []
    if not passages:
        return AnswerPlan("Nothing in your files to summarize.")
    # "Summarize what the handbook says about expenses": the passages about
    # the subject, when some are.
    query = str(searches[-1].arguments.get("query") or "")
    passages = relevant(query, passages) or passages
    text = "\n".join(str(passage.get("text", "")) for passage in passages)
    summary = summarize(text, count=request.count, bullets=request.bullets)
    sources = sorted({citation(passage) for passage in passages})
    return AnswerPlan(
        f"{describe_summary(summary, bullets=request.bullets)}\n{summary}\n"
        f"Sources: {'; '.join(sources)}"
    )


def _review_plan(text: str, system_instructions: str | None, schema: dict) -> Plan:
    outcome, feedback = verdict(text, system_instructions)
    fields = {}
    for enum_field in enum_fields(schema):
        values = {str(value).lower(): value for value in enum_field.values}
        if "pass" in values:
            wanted = ["pass"] if outcome == "pass" else ["revise", "fail", "reject"]
            fields[enum_field.name] = next(values[v] for v in wanted if v in values)
    for name in ("feedback", "comments", "reason", "notes"):
        fields.setdefault(name, feedback)
    return AnswerPlan(f"{outcome}: {feedback}", fields=fields)


def _classification_plan(text: str, schema: dict) -> Plan | None:
    choices = {
        enum_field.name: classify(text, enum_field)
        for enum_field in enum_fields(schema)
    }
    if not choices:
        return None
    fields: dict[str, Any] = {name: value for name, (value, _c) in choices.items()}
    confidence = resolve(output_schema_property(schema, "confidence"), schema)
    chosen, _nullable = non_null(confidence, schema)
    if "confidence" not in fields and chosen.get("type") == "number":
        fields["confidence"] = next(iter(choices.values()))[1]
    return AnswerPlan(describe_choices(choices), fields=fields)


def output_schema_property(schema: dict, name: str) -> dict:
    return resolve(schema, schema).get("properties", {}).get(name, {})


def _relay(name: str, output: str | None) -> AnswerPlan:
    result = output or "(no output)"
    number = parse_number(result)
    try:
        data = json.loads(result)
    except json.JSONDecodeError:
        # Agents run as tools hand back their structured output as a repr.
        try:
            data = ast.literal_eval(result)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            data = None
    if isinstance(data, dict) and isinstance(data.get("answer"), int | float):
        number = data["answer"]
        explanation = data.get("explanation") or ""
        return AnswerPlan(
            f"{name} answered {format_number(number)}. {explanation}".strip(),
            number=number,
        )
    return AnswerPlan(f"{name} says: {result}", number=number)


def decide(
    *,
    conversation: Conversation,
    system_instructions: str | None,
    tools: list[Any],
    handoffs: list[Any],
    tool_choice: str | None = None,
    output_schema: dict | None = None,
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
        target = best_match(
            text, [(h, h.agent_name, h.tool_description) for h in handoffs]
        )
        if target is not None:
            words = matched_words(text, target.agent_name, target.tool_description)
            return ToolCallPlan(
                target.tool_name,
                ArgumentBuilder(text).build(target.input_json_schema),
                f"The request is about {', '.join(words)}; "
                f"I'll hand it to {target.agent_name}.",
            )

    if output_schema is not None and is_review_schema(output_schema):
        return _review_plan(text, system_instructions, output_schema)

    summary_asked = is_summary_request(text)
    computing = not summary_asked and not already_worked_out(text)
    continues = bool(numbers_in(conversation.earlier_answer))
    steps = plan_arithmetic(text, continues=continues) if computing else []
    if CALCULATOR in function_tools and steps:
        return _calculator_plan(conversation, steps)

    # A question, or a statement with enough to search for ("I was charged
    # twice on my invoice"); not "Thanks, that was helpful".
    about_something = is_question(text) or len(content_words(text)) >= 3
    if FILE_SEARCH in function_tools and about_something and not summary_asked:
        searches = conversation.calls_to(FILE_SEARCH)
        if searches:
            return AnswerPlan(answer_from_passages(text, searches[-1].output))
        return _search_files(
            function_tools[FILE_SEARCH],
            text,
            f"I'll search the files for: {shorten(text, 120)}",
        )

    if summary_asked:
        return _summary_plan(conversation, read_request(text), function_tools)
    if SUMMARY_ROLE.search(system_instructions or "") and len(text.split()) >= 6:
        request = SummaryRequest(text=text, count=None, bullets=False)
        return _summary_plan(conversation, request, function_tools)

    if output_schema is not None:
        classified = _classification_plan(text, output_schema)
        if classified is not None:
            return classified

    if steps:
        helper = best_match(
            "arithmetic math calculator sums",
            [(t, t.name, t.description or "") for t in function_tools.values()],
        )
        if helper is None:
            return _internal_arithmetic(steps, conversation.earlier_answer)
        earlier = conversation.calls_to(helper.name)
        if earlier:
            return _relay(helper.name, earlier[-1].output)
        return ToolCallPlan(
            helper.name,
            ArgumentBuilder(text).build(helper.params_json_schema),
            f"This is arithmetic; I'll ask {helper.name}.",
        )
    if computing and looks_like_arithmetic(text):
        return AnswerPlan(cannot_parse_arithmetic(text))

    # The calculator is only ever called with arithmetic read from the text.
    matchable = [
        (t, t.name, t.description or "")
        for t in function_tools.values()
        if t.name != CALCULATOR
    ]
    chosen = best_match(text, matchable) or zone_tool(text, function_tools)
    if chosen is not None:
        earlier = conversation.calls_to(chosen.name)
        if earlier:
            return _relay(chosen.name, earlier[-1].output)
        words = matched_words(text, chosen.name, chosen.description or "")
        return ToolCallPlan(
            chosen.name,
            ArgumentBuilder(text).build(chosen.params_json_schema),
            f"The request mentions {', '.join(words)}; I'll call {chosen.name}.",
        )

    return AnswerPlan(cannot_write(text, instructions=system_instructions or ""))


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
        fields=plan.fields,
    )
    return json.dumps(value, ensure_ascii=False)
