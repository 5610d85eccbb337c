"""The offline demo model, driven through the real Agents SDK runner."""

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from pydantic import BaseModel

import agents.runtime.sdk  # noqa: F401  (loads the SDK as agents_sdk)
from agents.runtime.demo_model import (
    DEMO_MODEL_ID,
    DEMO_MODEL_LABEL,
    PREVIOUS,
    ArgumentBuilder,
    ArithmeticStep,
    DemoModel,
    DemoModelProvider,
    fill_output,
    plan_arithmetic,
)
from agents.runtime.sdk import (
    Agent,
    AgentOutputSchema,
    AgentOutputSchemaBase,
    FunctionTool,
    RunConfig,
    Runner,
)
from agents.tools import get_tool

# isort: split
# Importable once agents.runtime.sdk has loaded the SDK as agents_sdk.
from agents_sdk.exceptions import ModelBehaviorError

TRIAGE_INSTRUCTIONS = "Send each request to the right team."


# Helpers


class Outcome:
    """What a run produced, the same way for Runner.run and run_streamed."""

    def __init__(self, result, events=()):
        self.result = result
        self.events = list(events)

    @property
    def final_output(self):
        return self.result.final_output

    @property
    def usage(self):
        return self.result.context_wrapper.usage

    def items(self, kind):
        return [item for item in self.result.new_items if item.type == kind]

    def tool_calls(self, kind="tool_call_item"):
        """(name, arguments) of each function call, in order."""
        return [
            (item.raw_item.name, json.loads(item.raw_item.arguments))
            for item in self.items(kind)
        ]

    def tool_outputs(self):
        return [item.output for item in self.items("tool_call_output_item")]

    def item_event_names(self):
        return [
            event.name for event in self.events if event.type == "run_item_stream_event"
        ]

    def raw_events(self):
        return [
            event.data for event in self.events if event.type == "raw_response_event"
        ]


async def run(agent, text, *, streamed, **options):
    if not streamed:
        return Outcome(await Runner.run(agent, text, **options))
    result = Runner.run_streamed(agent, text, **options)
    events = [event async for event in result.stream_events()]
    return Outcome(result, events)


both_modes = pytest.mark.parametrize("streamed", [False, True], ids=["run", "streamed"])


def builtin(*names):
    return [get_tool(name).as_sdk_tool() for name in names]


def passages_tool(output, calls):
    """A file_search stand-in that records its arguments and returns ``output``."""

    async def on_invoke_tool(context, arguments_json):
        calls.append(json.loads(arguments_json))
        return output

    return FunctionTool(
        name="file_search",
        description="Search the agent's files for passages relevant to a query.",
        params_json_schema={
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "max_results": {"type": ["integer", "null"]},
            },
            "required": ["query", "max_results"],
            "additionalProperties": False,
        },
        on_invoke_tool=on_invoke_tool,
    )


class JsonSchemaOutput(AgentOutputSchemaBase):
    """An output type checked with jsonschema, independent of the model's code."""

    def __init__(self, schema):
        self.schema = schema

    def is_plain_text(self):
        return False

    def name(self):
        return "checked_output"

    def json_schema(self):
        return self.schema

    def is_strict_json_schema(self):
        return False

    def validate_json(self, json_str):
        try:
            value = json.loads(json_str)
            jsonschema.validate(value, self.schema)
        except (ValueError, jsonschema.ValidationError) as error:
            raise ModelBehaviorError(f"Invalid output: {error}") from error
        return value


REPORT_SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "minLength": 1},
        "result": {"type": "number"},
        "confidence": {"type": "string", "enum": ["high", "low"]},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "details": {
            "type": "object",
            "properties": {
                "steps": {"type": "integer", "minimum": 1},
                "exact": {"type": "boolean"},
                "note": {"type": ["string", "null"]},
            },
            "required": ["steps", "exact", "note"],
            "additionalProperties": False,
        },
    },
    "required": ["answer", "result", "confidence", "tags", "details"],
    "additionalProperties": False,
}


# The calculator


@both_modes
async def test_it_chains_calculator_calls_and_answers_with_the_last_result(streamed):
    """'5 + 10, then multiply by 3' is add(5, 10) then multiply(15, 3): 45."""
    agent = Agent(name="Maths", model=DemoModel(), tools=builtin("calculator"))
    outcome = await run(agent, "What is 5 + 10, then multiply by 3?", streamed=streamed)

    assert outcome.tool_calls() == [
        ("calculator", {"operation": "add", "a": 5, "b": 10, "expression": None}),
        ("calculator", {"operation": "multiply", "a": 15, "b": 3, "expression": None}),
    ]
    assert outcome.tool_outputs() == ["15", "45"]
    assert "45" in outcome.final_output
    assert "45.0" not in outcome.final_output


async def test_a_later_turn_continues_from_the_previous_answer():
    """In a conversation, "then multiply by 3" starts from the last answer."""
    agent = Agent(name="Maths", model=DemoModel(), tools=builtin("calculator"))
    history = [
        {"role": "user", "content": "What is 5 + 10?"},
        {"role": "assistant", "content": "5 + 10 = 15. The answer is 15."},
        {"role": "user", "content": "And then multiply by 3?"},
    ]
    outcome = Outcome(await Runner.run(agent, history))
    assert outcome.tool_calls() == [
        ("calculator", {"operation": "multiply", "a": 15, "b": 3, "expression": None}),
    ]
    assert "45" in outcome.final_output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What is 12 plus 30?", "42"),
        ("What is 6 times 7?", "42"),
        ("Compute 50 minus 8", "42"),
        ("What is (2 + 3) * 4?", "20"),
        ("What is 2 + 3 * 4?", "14"),
        ("What is 100 divided by 8, then times 4?", "50"),
        ("Add 5 and 10, then divide by 2, then squared", "56.25"),
        ("Subtract 3 from 10, then times 2", "14"),
        ("What is the square root of 81?", "9"),
        ("What's 7 to the power of 3?", "343"),
    ],
)
async def test_it_understands_arithmetic_in_words_and_symbols(text, expected):
    """Words (plus, times, divided by, squared...) and symbols reach the tool."""
    agent = Agent(name="Maths", model=DemoModel(), tools=builtin("calculator"))
    outcome = await run(agent, text, streamed=False)
    assert outcome.tool_outputs()[-1] == expected
    assert f"The answer is {expected}." in outcome.final_output


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("5 plus 10", [ArithmeticStep("add", 5, 10)]),
        (
            "9 minus 2, times 4",
            [
                ArithmeticStep("subtract", 9, 2),
                ArithmeticStep("multiply", PREVIOUS, 4),
            ],
        ),
        (
            "multiply 6 by 7 and then divide by 2",
            [
                ArithmeticStep("multiply", 6, 7),
                ArithmeticStep("divide", PREVIOUS, 2),
            ],
        ),
        ("3 squared", [ArithmeticStep("power", 3, 2)]),
        ("subtract 3 from 10", [ArithmeticStep("subtract", 10, 3)]),
        ("1,000 + 1", [ArithmeticStep("add", 1000, 1)]),
        ("2 + 3 * 4", [ArithmeticStep("expression", expression="2 + 3 * 4")]),
    ],
)
def test_it_plans_one_calculator_step_per_operation(text, steps):
    """The plan keeps the user's order and chains on the previous result."""
    assert plan_arithmetic(text) == steps


@pytest.mark.parametrize(
    "text",
    [
        "I have 3 apples and 2 pears",
        "Meet me on 2024-05-01 at 10:30",
        "What time is it in Europe/Paris?",
        "Add some colour to the page",
    ],
)
def test_it_finds_no_arithmetic_where_there_is_none(text):
    """Dates, times, lone numbers and verbs without numbers are not sums."""
    assert plan_arithmetic(text) == []


async def test_it_relays_a_calculator_error_instead_of_a_number():
    """When the tool refuses (division by zero), the answer says why."""
    agent = Agent(name="Maths", model=DemoModel(), tools=builtin("calculator"))
    outcome = await run(agent, "What is 1 divided by 0?", streamed=False)
    assert len(outcome.tool_calls()) == 1
    assert "Division by zero" in outcome.final_output


async def test_it_gives_every_tool_call_its_own_id():
    """Call ids are unique within a run, as the SDK requires."""
    agent = Agent(name="Maths", model=DemoModel(), tools=builtin("calculator"))
    outcome = await run(
        agent, "What is 1 + 2, then times 3, then minus 4?", streamed=False
    )
    call_ids = [item.raw_item.call_id for item in outcome.items("tool_call_item")]
    assert len(call_ids) == 3
    assert len(set(call_ids)) == 3


# Thoughts and streaming


@both_modes
async def test_it_thinks_aloud_before_each_tool_call(streamed):
    """A reasoning item, naming the operation, precedes every tool call."""
    agent = Agent(name="Maths", model=DemoModel(), tools=builtin("calculator"))
    outcome = await run(agent, "What is 5 + 10, then multiply by 3?", streamed=streamed)

    kinds = [item.type for item in outcome.result.new_items]
    assert kinds == [
        "reasoning_item",
        "tool_call_item",
        "tool_call_output_item",
        "reasoning_item",
        "tool_call_item",
        "tool_call_output_item",
        "message_output_item",
    ]
    thoughts = [
        item.raw_item.summary[0].text for item in outcome.items("reasoning_item")
    ]
    assert thoughts[0] == "The user asked to add 5 and 10; I'll use the calculator."
    assert "multiply 15 by 3" in thoughts[1]


async def test_it_streams_reasoning_and_tool_events_in_order():
    """Run-item events come as reasoning, tool call, tool output, then message."""
    agent = Agent(name="Maths", model=DemoModel(), tools=builtin("calculator"))
    outcome = await run(agent, "What is 5 + 10, then multiply by 3?", streamed=True)
    assert outcome.item_event_names() == [
        "reasoning_item_created",
        "tool_called",
        "tool_output",
        "reasoning_item_created",
        "tool_called",
        "tool_output",
        "message_output_created",
    ]
    raw_types = [event.type for event in outcome.raw_events()]
    first_thought = raw_types.index("response.reasoning_summary_text.delta")
    first_arguments = raw_types.index("response.function_call_arguments.delta")
    assert first_thought < first_arguments


async def test_it_streams_the_answer_word_by_word():
    """Text arrives as several output_text deltas that add up to the answer."""
    agent = Agent(
        name="Guide", instructions="You are a patient guide.", model=DemoModel()
    )
    outcome = await run(agent, "Hello, how are you today?", streamed=True)
    deltas = [
        event.delta
        for event in outcome.raw_events()
        if event.type == "response.output_text.delta"
    ]
    assert len(deltas) > 5
    assert all(len(delta.split()) == 1 for delta in deltas)
    assert "".join(deltas) == outcome.final_output


async def test_it_ends_every_streamed_turn_with_a_completed_response():
    """Each model call streams created ... completed, and completed carries usage."""
    agent = Agent(name="Maths", model=DemoModel(), tools=builtin("calculator"))
    outcome = await run(agent, "What is 5 + 10, then multiply by 3?", streamed=True)
    raw = outcome.raw_events()
    created = [event for event in raw if event.type == "response.created"]
    completed = [event for event in raw if event.type == "response.completed"]
    assert len(created) == len(completed) == outcome.usage.requests == 3
    assert raw[0].type == "response.created"
    assert raw[-1].type == "response.completed"
    for event in completed:
        assert event.response.status == "completed"
        assert event.response.output
        assert event.response.usage.input_tokens > 0
        assert event.response.usage.output_tokens > 0
    numbers = [event.sequence_number for event in raw[: raw.index(completed[0]) + 1]]
    assert numbers == list(range(len(numbers)))


@both_modes
async def test_it_reports_token_usage_for_every_request(streamed):
    """Usage counts one request per turn and approximate, non-zero tokens."""
    agent = Agent(name="Maths", model=DemoModel(), tools=builtin("calculator"))
    outcome = await run(agent, "What is 5 + 10, then multiply by 3?", streamed=streamed)
    usage = outcome.usage
    assert usage.requests == 3
    assert usage.input_tokens > 0
    assert usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert len(usage.request_usage_entries) == 3
    # Later turns carry the earlier ones in their input, so they cost more.
    entries = usage.request_usage_entries
    assert entries[0].input_tokens < entries[1].input_tokens < entries[2].input_tokens


async def test_it_gives_the_same_answer_streamed_or_not():
    """Streaming changes how the answer arrives, not what it is."""
    agent = Agent(name="Maths", model=DemoModel(), tools=builtin("calculator"))
    text = "What is 2 + 2, then times 10?"
    plain = await run(agent, text, streamed=False)
    streamed = await run(agent, text, streamed=True)
    assert plain.final_output == streamed.final_output
    assert plain.tool_calls() == streamed.tool_calls()


# Handoffs


def team():
    billing = Agent(
        name="Billing",
        handoff_description="Invoices, refunds and payments.",
        instructions="You help with invoices.",
        model=DemoModel(),
    )
    support = Agent(
        name="Tech support",
        handoff_description="Bugs, crashes and error messages in the app.",
        instructions="You fix bugs.",
        model=DemoModel(),
    )
    triage = Agent(
        name="Triage",
        instructions=TRIAGE_INSTRUCTIONS,
        handoffs=[billing, support],
        model=DemoModel(),
    )
    return triage, billing, support


@both_modes
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I was charged twice, please refund my invoice", "Billing"),
        ("The app crashes with an error when I log in", "Tech support"),
        ("Who handles billing?", "Billing"),
    ],
)
async def test_it_hands_off_to_the_agent_that_best_matches(text, expected, streamed):
    """The target is the agent whose name and description share most words."""
    triage, _billing, _support = team()
    outcome = await run(triage, text, streamed=streamed)
    assert outcome.result.last_agent.name == expected
    calls = outcome.tool_calls("handoff_call_item")
    assert len(calls) == 1
    assert calls[0][0] == f"transfer_to_{expected.lower().replace(' ', '_')}"
    assert calls[0][1] == {}
    assert outcome.items("handoff_output_item")


@both_modes
async def test_it_does_not_hand_off_when_no_agent_matches(streamed):
    """Without a shared word, the first agent answers itself."""
    triage, _billing, _support = team()
    outcome = await run(triage, "Good morning, lovely weather", streamed=streamed)
    assert outcome.result.last_agent is triage
    assert outcome.tool_calls("handoff_call_item") == []
    assert "offline model (local/demo) cannot write" in outcome.final_output


async def test_it_streams_the_handoff_events():
    """Streaming shows the thought, the handoff request and the handoff."""
    triage, _billing, _support = team()
    outcome = await run(triage, "Refund my invoice", streamed=True)
    names = outcome.item_event_names()
    assert names.index("reasoning_item_created") < names.index("handoff_requested")
    assert names.index("handoff_requested") < names.index("handoff_occured")
    assert names[-1] == "message_output_created"


async def test_it_hands_off_only_on_the_first_turn():
    """An agent that receives a handoff answers, even if it could pass it on."""
    triage, billing, support = team()
    billing.handoffs = [support]
    text = "Refund my invoice, the billing app crashes"
    outcome = await run(triage, text, streamed=False)
    assert outcome.result.last_agent is billing
    assert len(outcome.items("handoff_output_item")) == 1
    assert "transfer_to" not in outcome.final_output


async def test_it_breaks_a_tie_in_favour_of_the_first_handoff():
    """When two agents match equally well, the one listed first wins."""
    triage, billing, support = team()
    text = "My invoice shows an error"
    triage.handoffs = [support, billing]
    first = await run(triage, text, streamed=False)
    triage.handoffs = [billing, support]
    second = await run(triage, text, streamed=False)
    assert first.result.last_agent is support
    assert second.result.last_agent is billing


# File search


PASSAGES = [
    {
        "text": "Refunds are issued within 14 days.",
        "source": "policy.pdf",
        "score": 0.9,
    },
    {"text": "Shipping is free above 50 euros.", "source": "faq.md", "score": 0.7},
]


@pytest.mark.parametrize(
    "output", [json.dumps(PASSAGES), json.dumps({"results": PASSAGES})]
)
@both_modes
async def test_it_searches_files_and_quotes_passages_with_sources(output, streamed):
    """A question triggers file_search; the answer quotes the relevant passage
    with its source, and leaves out the one about something else."""
    calls = []
    agent = Agent(
        name="Librarian",
        model=DemoModel(),
        tools=[passages_tool(output, calls), *builtin("calculator")],
    )
    question = "What is the refund policy?"
    outcome = await run(agent, question, streamed=streamed)
    assert calls == [{"query": question, "max_results": None}]
    assert outcome.final_output == (
        "From policy.pdf:\n\u201cRefunds are issued within 14 days.\u201d"
    )


async def test_it_quotes_plain_text_search_results_as_they_are():
    """A search tool that answers in prose is quoted verbatim."""
    calls = []
    prose = "Refunds take two weeks according to policy.pdf"
    agent = Agent(
        name="Librarian", model=DemoModel(), tools=[passages_tool(prose, calls)]
    )
    outcome = await run(agent, "How long do refunds take?", streamed=False)
    assert len(calls) == 1
    assert prose in outcome.final_output


async def test_it_says_so_when_the_search_finds_nothing():
    """An empty result list is reported, not dressed up as an answer."""
    calls = []
    agent = Agent(
        name="Librarian", model=DemoModel(), tools=[passages_tool("[]", calls)]
    )
    outcome = await run(agent, "Where is the office?", streamed=False)
    assert len(calls) == 1
    assert outcome.final_output == "Nothing in your files about office."


async def test_it_does_not_search_files_for_a_statement():
    """Only questions are searched; a statement gets the honest reply."""
    calls = []
    agent = Agent(
        name="Librarian",
        instructions="Answer from the files.",
        model=DemoModel(),
        tools=[passages_tool(json.dumps(PASSAGES), calls)],
    )
    outcome = await run(agent, "Thanks, that was helpful.", streamed=False)
    assert calls == []
    assert "cannot write" in outcome.final_output


# Other tools


@both_modes
@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("What time is it in Europe/Paris?", "Europe/Paris"),
        ("what time is it in america/new_york", "America/New_York"),
        ("What time is it in Tokyo?", "Asia/Tokyo"),
        ("What time is it?", None),
    ],
)
async def test_it_calls_current_time_with_the_zone_in_the_question(
    text, zone, streamed
):
    """current_time is chosen by its name, with the IANA zone found in the text."""
    agent = Agent(
        name="Clock", model=DemoModel(), tools=builtin("calculator", "current_time")
    )
    outcome = await run(agent, text, streamed=streamed)
    assert outcome.tool_calls() == [("current_time", {"timezone": zone})]
    [output] = outcome.tool_outputs()
    assert output.split(" ")[1] == (zone or "UTC")
    stamp = datetime.fromisoformat(output.split(" ")[0])
    assert stamp.utcoffset() == datetime.now(ZoneInfo(zone or "UTC")).utcoffset()
    assert output in outcome.final_output


async def test_it_fills_a_tools_arguments_from_its_schema_and_the_text():
    """Enums take the value mentioned, numbers the numbers, booleans false."""
    calls = []

    async def forecast(context, arguments_json):
        calls.append(json.loads(arguments_json))
        return "Sunny, 21 degrees"

    tool = FunctionTool(
        name="weather_forecast",
        description="The weather forecast for a city.",
        params_json_schema={
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "units": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": ["integer", "null"]},
                "hourly": {"type": "boolean"},
                "country": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
            "required": ["city", "units", "days", "hourly", "country"],
            "additionalProperties": False,
        },
        on_invoke_tool=forecast,
    )
    agent = Agent(name="Weather", model=DemoModel(), tools=[tool])
    text = "Give me the weather forecast for 'Lisbon' in fahrenheit for 3 days"
    outcome = await run(agent, text, streamed=False)
    assert calls == [
        {
            "city": "Lisbon",
            "units": "fahrenheit",
            "days": 3,
            "hourly": False,
            "country": "Lisbon",
        }
    ]
    assert "Sunny, 21 degrees" in outcome.final_output


def test_it_builds_null_or_first_values_when_the_text_has_nothing_to_offer():
    """Nullable values without a match are null; enums fall back to the first."""
    schema = {
        "type": "object",
        "properties": {
            "limit": {"type": ["number", "null"]},
            "count": {"type": "integer", "minimum": 1},
            "mode": {"type": "string", "enum": ["fast", "slow"]},
            "timezone": {"type": ["string", "null"]},
            "filters": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["limit", "count", "mode", "timezone", "filters"],
        "additionalProperties": False,
    }
    arguments = ArgumentBuilder("nothing useful here").build(schema)
    assert arguments == {
        "limit": None,
        "count": 1,
        "mode": "fast",
        "timezone": None,
        "filters": [],
    }
    jsonschema.validate(arguments, schema)


# Structured output


@both_modes
async def test_it_answers_in_json_that_fits_the_output_schema(streamed):
    """With an output schema, the final answer validates and holds the result."""
    agent = Agent(
        name="Reporter",
        model=DemoModel(),
        tools=builtin("calculator"),
        output_type=JsonSchemaOutput(REPORT_SCHEMA),
    )
    outcome = await run(agent, "What is 6 times 7?", streamed=streamed)
    report = outcome.final_output
    jsonschema.validate(report, REPORT_SCHEMA)
    assert report["result"] == 42
    assert "42" in report["answer"]
    assert report["confidence"] == "high"
    assert report["details"]["steps"] >= 1
    assert len(report["tags"]) >= 1


async def test_it_fills_an_output_schema_without_tools():
    """Without tool results, numbers come from the text and strings from the
    reply; the enum is chosen by meaning."""
    agent = Agent(
        name="Reporter",
        instructions="Report on requests.",
        model=DemoModel(),
        output_type=JsonSchemaOutput(REPORT_SCHEMA),
    )
    outcome = await run(agent, "Report the 3 open issues", streamed=False)
    jsonschema.validate(outcome.final_output, REPORT_SCHEMA)
    assert outcome.final_output["result"] == 3
    assert "confidence" in outcome.final_output["answer"]


class Step(BaseModel):
    title: str
    minutes: int


class Plan(BaseModel):
    goal: str
    steps: list[Step]
    priority: int | None
    done: bool


async def test_it_satisfies_pydantic_output_types():
    """SDK output types (with $defs and nullable fields) parse into the model."""
    agent = Agent(name="Planner", model=DemoModel(), output_type=Plan)
    outcome = await run(agent, "Plan a 20 minute walk", streamed=False)
    plan = outcome.final_output
    assert isinstance(plan, Plan)
    assert plan.steps[0].minutes == 20
    jsonschema.validate(plan.model_dump(), AgentOutputSchema(Plan).json_schema())


@pytest.mark.parametrize(
    "schema",
    [
        REPORT_SCHEMA,
        AgentOutputSchema(Plan).json_schema(),
        AgentOutputSchema(list[str]).json_schema(),
        {
            "type": "object",
            "properties": {
                "when": {"type": "string", "format": "date-time"},
                "level": {"const": "info"},
                "score": {"type": "number", "minimum": 5, "maximum": 10},
                "labels": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "maxItems": 0,
                },
                "choice": {"oneOf": [{"type": "null"}, {"type": "boolean"}]},
            },
            "required": ["when", "level", "score", "labels", "choice"],
        },
    ],
    ids=["report", "pydantic", "wrapped-list", "constraints"],
)
def test_it_fills_any_schema_with_a_valid_value(schema):
    """fill_output's value validates against the schema it was given."""
    value: Any = fill_output(schema, answer="An answer.", question="Why?", number=2)
    jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())


# Plain replies and the provider


@both_modes
async def test_it_says_plainly_what_it_cannot_write(streamed):
    """Without tools or handoffs, an open request gets an honest answer that
    names how to connect a real model, and never echoes the request."""
    agent = Agent(
        name="Guide",
        instructions="You are a cheerful travel guide. Never mention prices.",
        model=DemoModel(),
    )
    outcome = await run(agent, "Tell me about Lisbon", streamed=streamed)
    reply = outcome.final_output
    assert reply.startswith("The offline model (local/demo) cannot write")
    assert "OPENAI_API_KEY" in reply
    assert "/settings/provider-keys/" in reply
    assert "Ollama" in reply
    assert "Lisbon" not in reply


async def test_it_is_served_by_its_provider_under_both_names():
    """RunConfig(model_provider=DemoModelProvider()) runs agents named local/demo."""
    provider = DemoModelProvider()
    assert isinstance(provider.get_model("demo"), DemoModel)
    assert isinstance(provider.get_model(DEMO_MODEL_ID), DemoModel)
    with pytest.raises(ValueError, match="local/demo"):
        provider.get_model("gpt-4o")
    assert DEMO_MODEL_LABEL == "Offline demo model"

    agent = Agent(name="Maths", model=DEMO_MODEL_ID, tools=builtin("calculator"))
    outcome = await run(
        agent,
        "What is 20 + 22?",
        streamed=True,
        run_config=RunConfig(model_provider=provider),
    )
    assert outcome.tool_outputs() == ["42"]
    assert "42" in outcome.final_output
