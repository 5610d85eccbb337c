"""What the offline model answers, prompt by prompt, for each kind of task it
takes on: arithmetic (with the calculator tool and without it), questions
over files, summaries, classification, reviews, and honest refusals. Driven
through the real Agents SDK runner; exact answers."""

import json

import jsonschema
import pytest

import agents.runtime.sdk  # noqa: F401  (loads the SDK as agents_sdk)
from agents.runtime.demo_model import DemoModel
from agents.runtime.sdk import Agent, FunctionTool, Runner
from agents.tools import get_tool
from tests.agents.test_demo_model import JsonSchemaOutput
from workflows.engine import REVIEW_SCHEMA, router_schema

HONEST_START = "The offline model (local/demo) cannot write"
NO_TOOL = (
    " (Computed by the offline model with the calculator's evaluator: this "
    "agent has no calculator tool.)"
)


async def answer(agent, text):
    result = await Runner.run(agent, text)
    return result


def calculator_agent(**options):
    return Agent(
        name="Calculator",
        model=DemoModel(),
        tools=[get_tool("calculator").as_sdk_tool()],
        **options,
    )


def plain_agent(**options):
    return Agent(name="Plain", model=DemoModel(), **options)


ARITHMETIC = [
    ("What is 12.5% of 640?", "(12.5 / 100 * 640) = 80", 80),
    ("What percent is 30 of 120?", "(30 / 120 * 100) = 25", 25),
    ("What percentage of 120 is 30?", "(30 / 120 * 100) = 25", 25),
    ("640 plus 12.5%", "(640 * (1 + 12.5 / 100)) = 720", 720),
    ("What is 20% off 80?", "(80 * (1 - 20 / 100)) = 64", 64),
    ("7, then multiply by 2", "7 * 2 = 14", 14),
    ("5 + 10, then multiply by 3", "5 + 10 = 15, then 15 * 3 = 45", 45),
    ("What is 12 times 7, plus 5?", "12 * 7 = 84, then 84 + 5 = 89", 89),
    ("What is (2 + 3) * 4?", "(2 + 3) * 4 = 20", 20),
    ("2^10", "2 ** 10 = 1024", 1024),
    ("3 squared", "3 ** 2 = 9", 9),
    ("What is the square root of 144?", "144 ** 0.5 = 12", 12),
    ("How many minutes in 3.5 hours?", "(3.5 * 60) = 210", 210),
    ("90 minutes in hours", "(90 / 60) = 1.5", 1.5),
    ("How many seconds in a day?", "(1 * 86400) = 86400", 86400),
    ("How many hours in a week?", "(1 * 168) = 168", 168),
    ("What is 1,250 divided by 5?", "1250 / 5 = 250", 250),
    ("What is the cube root of 27?", "27 ** 0.333333333333 = 3", 3),
    ("What is half of 50?", "0.5 * 50 = 25", 25),
    ("What is a 15% tip on $80?", "(15 / 100 * 80) = 12", 12),
    ("What is $1,200 plus 8% tax?", "(1200 * (1 + 8 / 100)) = 1296", 1296),
    ("Divide 144 by 12, then subtract 2", "144 / 12 = 12, then 12 - 2 = 10", 10),
    ("Start with 7, then double it", "7 * 2 = 14", 14),
]


@pytest.mark.parametrize(("text", "working", "result"), ARITHMETIC)
async def test_it_works_out_everyday_arithmetic_with_the_calculator(
    text, working, result
):
    """Every operation goes through the calculator tool; the answer is exact."""
    outcome = await answer(calculator_agent(), text)
    assert outcome.final_output == f"{working}. The answer is {result:g}."
    calls = [i for i in outcome.new_items if i.type == "tool_call_item"]
    assert calls
    assert {call.raw_item.name for call in calls} == {"calculator"}


@pytest.mark.parametrize(("text", "working", "result"), ARITHMETIC)
async def test_without_the_tool_it_computes_the_same_and_says_so(text, working, result):
    outcome = await answer(plain_agent(), text)
    assert outcome.final_output == f"{working}. The answer is {result:g}.{NO_TOOL}"
    assert not [i for i in outcome.new_items if i.type == "tool_call_item"]


@pytest.mark.parametrize(
    "text",
    [
        "What is 7 plus?",
        "Calculate 3 divided by",
        "What is 5 % of?",
        # Every number must be used: 45 would be left out.
        "What is 45 minutes plus 30 minutes in hours?",
        "If I have 3 apples and buy 5 more, how many do I have?",
    ],
)
async def test_it_will_not_guess_a_number_it_cannot_parse(text):
    outcome = await answer(calculator_agent(), text)
    assert outcome.final_output.startswith(
        f'I could not work out the arithmetic in "{text}", so I will not guess'
    )
    assert not [i for i in outcome.new_items if i.type == "tool_call_item"]


TUTOR_SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "number"},
        "explanation": {"type": "string"},
    },
    "required": ["answer", "explanation"],
}


@pytest.mark.parametrize(
    ("text", "result"),
    [("What is 12.5% of 640?", 80), ("5 + 10, then multiply by 3", 45)],
)
async def test_a_number_field_carries_the_computed_result(text, result):
    agent = calculator_agent(output_type=JsonSchemaOutput(TUTOR_SCHEMA))
    outcome = await answer(agent, text)
    jsonschema.validate(outcome.final_output, TUTOR_SCHEMA)
    assert outcome.final_output["answer"] == result
    assert outcome.final_output["explanation"].endswith(f"The answer is {result}.")


# Files


HANDBOOK = [
    {
        "source": "handbook.pdf, page 3",
        "heading": "Holidays",
        "text": "Holidays\nEvery employee has 25 days of paid holiday a year. "
        "Unused days carry over until March 31. Book them two weeks ahead.",
        "vector_score": 0.62,
        "keyword_rank": 1,
    },
    {
        "source": "handbook.pdf, page 5",
        "heading": "Expenses",
        "text": "Meals on business trips are reimbursed up to 40 euros a day.",
        "vector_score": 0.21,
        "keyword_rank": None,
    },
]


def search_tool(passages, calls):
    async def on_invoke_tool(context, arguments_json):
        calls.append(json.loads(arguments_json))
        return json.dumps({"query": "", "results": passages, "reason": ""})

    return FunctionTool(
        name="file_search",
        description="Search the attached files.",
        params_json_schema=get_tool("file_search").parameters,
        on_invoke_tool=on_invoke_tool,
    )


async def test_it_answers_from_the_files_quoting_the_best_passage_with_its_source():
    calls = []
    agent = plain_agent(tools=[search_tool(HANDBOOK, calls)])
    outcome = await answer(agent, "How many days of paid holiday do we get?")
    assert calls == [{"query": "How many days of paid holiday do we get?", "k": None}]
    assert outcome.final_output == (
        "From handbook.pdf, page 3, section \u201cHolidays\u201d:\n"
        "\u201cEvery employee has 25 days of paid holiday a year. Unused days "
        "carry over until March 31.\u201d"
    )


async def test_it_says_when_nothing_in_the_files_is_about_the_question():
    unrelated = [{**passage, "vector_score": 0.12} for passage in HANDBOOK]
    agent = plain_agent(tools=[search_tool(unrelated, [])])
    outcome = await answer(agent, "What is the dress code?")
    assert outcome.final_output == "Nothing in your files about dress code."


# Summaries


COUNCIL = (
    "The city council met on Monday to discuss the new bike lanes. Residents "
    "complained about traffic on Main Street. The council voted to build "
    "protected bike lanes on Main Street by June. Construction will cost 2 "
    "million euros, paid by a regional grant. The mayor said the lanes would "
    "make the street safer for children. A local bakery offered free coffee "
    "to everyone who attended."
)
OUTAGE = (
    "Our servers went down at 9:00 because a disk filled up. Logs had not been "
    "rotated for a month. We freed space and restarted the database. Service "
    "came back at 9:40. We will add disk alerts and rotate logs daily. Nobody "
    "lost data."
)
PHONE = (
    "The new phone has a larger screen. Its battery lasts two days. The camera "
    "is better in low light. It costs 100 euros more than last year's model. It "
    "comes in four colours. Reviewers praised its speed."
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"Summarize this in 2 sentences: {COUNCIL}",
            "In short (the 2 most central sentences, quoted as written):\n"
            "The city council met on Monday to discuss the new bike lanes. The "
            "council voted to build protected bike lanes on Main Street by June.",
        ),
        (
            f"TL;DR: {OUTAGE}",
            "In short (the 3 most central sentences, quoted as written):\n"
            "Our servers went down at 9:00 because a disk filled up. Logs had not "
            "been rotated for a month. We will add disk alerts and rotate logs "
            "daily.",
        ),
        (
            f"Give me 3 bullet points: {PHONE}",
            "In short (the 3 most central points, quoted as written):\n"
            "- The new phone has a larger screen.\n"
            "- The camera is better in low light.\n"
            "- It costs 100 euros more than last year's model.",
        ),
        (
            f"{COUNCIL}\n\nSummarize this in one sentence.",
            "In short (the 1 most central sentence, quoted as written):\n"
            "The council voted to build protected bike lanes on Main Street by "
            "June.",
        ),
    ],
)
async def test_it_summarizes_with_the_most_central_sentences_at_the_length_asked(
    text, expected
):
    outcome = await answer(plain_agent(), text)
    assert outcome.final_output == expected


# Classification


ROUTES = ["billing", "technical", "account"]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I was charged twice on my invoice", "billing"),
        ("The app crashes when I upload a file", "technical"),
        ("How do I reset my password?", "account"),
        ("Please refund my last payment", "billing"),
    ],
)
async def test_a_router_picks_the_category_by_meaning_with_a_clear_confidence(
    text, category
):
    schema = router_schema(ROUTES)
    outcome = await answer(plain_agent(output_type=JsonSchemaOutput(schema)), text)
    jsonschema.validate(outcome.final_output, schema)
    assert outcome.final_output["category"] == category
    assert outcome.final_output["confidence"] > 0.5


@pytest.mark.parametrize(
    "text", ["Write a haiku about autumn", "Who was the first emperor of Rome?"]
)
async def test_a_request_that_fits_no_category_falls_to_other(text):
    schema = router_schema(ROUTES)
    outcome = await answer(plain_agent(output_type=JsonSchemaOutput(schema)), text)
    assert outcome.final_output["category"] == "other"


async def test_a_category_description_in_the_schema_is_read():
    schema = {
        "type": "object",
        "properties": {
            "team": {
                "oneOf": [
                    {"const": "team-a", "description": "Shipping and deliveries"},
                    {"const": "team-b", "description": "Passwords and logins"},
                ]
            }
        },
        "required": ["team"],
    }
    agent = plain_agent(output_type=JsonSchemaOutput(schema))
    outcome = await answer(agent, "My parcel is a week late")
    assert outcome.final_output == {"team": "team-a"}


# Reviews


def review_request(task, work):
    return f"Task:\n{task}\n\nWork (attempt 1 of 3):\n{work}"


PASSED = (
    "Passed the checks the offline model can make (not empty, the length limits "
    "and required words the task states); it cannot judge accuracy or style."
)


@pytest.mark.parametrize(
    ("task", "work", "verdict", "feedback"),
    [
        (
            "Describe the moon in at most 10 words; it must mention tides.",
            "The moon pulls the tides twice a day.",
            "pass",
            PASSED,
        ),
        (
            "Describe the moon in at most 10 words; it must mention tides.",
            "The moon is a big grey rock in the sky that we see at night.",
            "revise",
            "Revise: it has 15 words; the task allows at most 10; it does not "
            "mention \u201ctides\u201d.",
        ),
        ("Return the result as valid JSON.", '{"answer": 42}', "pass", PASSED),
        (
            "Return the result as valid JSON.",
            "The answer is 42.",
            "revise",
            "Revise: it is not valid JSON.",
        ),
        (
            "Write at least 5 words.",
            "Too short.",
            "revise",
            "Revise: it has 2 words; the task asks for at least 5.",
        ),
        ("Write anything.", "  ", "revise", "Revise: the work is empty."),
    ],
)
async def test_a_reviewer_passes_work_only_when_the_checks_it_can_make_pass(
    task, work, verdict, feedback
):
    agent = plain_agent(output_type=JsonSchemaOutput(REVIEW_SCHEMA))
    outcome = await answer(agent, review_request(task, work))
    assert outcome.final_output == {"verdict": verdict, "feedback": feedback}


# Honest refusals


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Write a haiku about autumn", "poetry"),
        ('Translate "good morning" into French', "a translation"),
        ("Review this code: def add(a, b): return a - b", "a code review"),
        ("Tell me a joke", "a quiz or a joke"),
        ("Who won the 1998 World Cup?", "an answer to this"),
        ("Write a short story about a dragon", "prose"),
    ],
)
async def test_it_says_plainly_it_cannot_write_this_and_how_to_connect_a_model(
    text, kind
):
    outcome = await answer(plain_agent(), text)
    reply = outcome.final_output
    assert reply.startswith(f"{HONEST_START} {kind}: it does not generate text;")
    assert "OPENAI_API_KEY" in reply
    assert "/settings/provider-keys/" in reply
    assert "Ollama" in reply
    assert text not in reply
