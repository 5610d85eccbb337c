"""Built-in tools: the registry, the calculator and the clock."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import agents.runtime.sdk  # noqa: F401  (loads the SDK as agents_sdk)
from agents.runtime.sdk import Agent, Runner
from agents.tools import (
    BuiltinTool,
    ToolInputError,
    all_tools,
    get_tool,
    register,
    tool_names,
)
from agents.tools import registry as tool_registry

# isort: split
# Importable once agents.runtime.sdk has loaded the SDK as agents_sdk.
from agents_sdk.testing import ScriptedModel, assistant_message, function_call


def calculate(operation, a=None, b=None, expression=None):
    arguments = {"operation": operation, "a": a, "b": b, "expression": expression}
    return get_tool("calculator").invoke(arguments)


def evaluate(expression):
    return calculate("expression", expression=expression)


@pytest.fixture
def isolated_registry(monkeypatch):
    """A copy of the registry that the test may change freely."""
    monkeypatch.setattr(tool_registry, "_registry", dict(tool_registry._registry))


def echo_tool(name="echo"):
    return BuiltinTool(
        name=name,
        description="Repeats its text.",
        parameters={
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
            "additionalProperties": False,
        },
        handler=lambda arguments: arguments["text"],
    )


# The registry


def test_it_registers_the_built_in_tools_on_import():
    """Importing the package is enough to find the calculator and the clock."""
    assert {"calculator", "current_time"} <= tool_names()
    assert get_tool("calculator").name == "calculator"


def test_it_lists_every_tool_sorted_by_name(isolated_registry):
    """all_tools() is ordered by name, whatever the registration order."""
    register(echo_tool("zebra"))
    register(echo_tool("aardvark"))
    names = [tool.name for tool in all_tools()]
    assert names == sorted(names)
    assert {"zebra", "aardvark"} <= set(names) == tool_names()


def test_it_raises_key_error_for_an_unknown_tool():
    """Asking for a tool nobody registered is a KeyError naming it."""
    with pytest.raises(KeyError, match="no_such_tool"):
        get_tool("no_such_tool")


def test_it_refuses_a_second_tool_with_the_same_name(isolated_registry):
    """Two different tools cannot share a name; re-registering one is harmless."""
    tool = register(echo_tool())
    assert register(tool) is tool
    with pytest.raises(ValueError, match="already registered"):
        register(echo_tool())


def test_it_refuses_names_the_model_apis_would_reject(isolated_registry):
    """Tool names are 1-64 letters, digits, underscores or hyphens."""
    with pytest.raises(ValueError, match="must be"):
        register(echo_tool("has spaces"))
    assert "has spaces" not in tool_names()


@pytest.mark.parametrize("tool", all_tools(), ids=lambda tool: tool.name)
def test_it_describes_each_built_in_tool_with_a_strict_schema(tool):
    """Every property is required, none extra, and the SDK leaves it unchanged."""
    schema = tool.parameters
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])
    assert tool.description
    sdk_tool = tool.as_sdk_tool()
    assert sdk_tool.name == tool.name
    assert sdk_tool.description == tool.description
    assert sdk_tool.strict_json_schema is True
    assert sdk_tool.params_json_schema == schema


# The SDK tool


async def test_it_returns_the_tool_result_through_the_sdk_tool():
    """on_invoke_tool parses the JSON arguments and returns invoke's text."""
    sdk_tool = get_tool("calculator").as_sdk_tool()
    arguments = {"operation": "add", "a": 2, "b": 3, "expression": None}
    assert await sdk_tool.on_invoke_tool(None, json.dumps(arguments)) == "5"


async def test_it_sends_bad_arguments_back_to_the_model_as_an_error():
    """A ToolInputError becomes a message for the model, not an exception."""
    sdk_tool = get_tool("calculator").as_sdk_tool()
    arguments = {"operation": "divide", "a": 1, "b": 0, "expression": None}
    result = await sdk_tool.on_invoke_tool(None, json.dumps(arguments))
    assert result.startswith("Error: ")
    assert "zero" in result


async def test_it_reports_arguments_that_are_not_json():
    """Malformed JSON from a model is reported back, not raised."""
    sdk_tool = get_tool("calculator").as_sdk_tool()
    result = await sdk_tool.on_invoke_tool(None, "{not json")
    assert result.startswith("Error: ")
    assert "JSON" in result


async def test_it_keeps_a_run_going_when_a_tool_is_called_badly():
    """Through the real runner, the model sees the error and may carry on."""
    model = ScriptedModel(
        [
            [
                function_call(
                    "calculator",
                    {"operation": "divide", "a": 1, "b": 0, "expression": None},
                    call_id="call-1",
                )
            ],
            [assistant_message("Sorry, that is undefined.")],
        ]
    )
    agent = Agent(
        name="Maths", model=model, tools=[get_tool("calculator").as_sdk_tool()]
    )
    result = await Runner.run(agent, "1 / 0?")
    outputs = [
        item.output for item in result.new_items if item.type == "tool_call_output_item"
    ]
    assert outputs == ["Error: Division by zero is undefined."]
    assert result.final_output == "Sorry, that is undefined."
    model.assert_complete()


# The calculator's operations


@pytest.mark.parametrize(
    ("operation", "a", "b", "expected"),
    [
        ("add", 5, 10, "15"),
        ("subtract", 5, 10, "-5"),
        ("multiply", 15, 3, "45"),
        ("divide", 10, 4, "2.5"),
        ("divide", 10, 2, "5"),
        ("power", 2, 10, "1024"),
        ("power", 16, 0.5, "4"),
        ("add", 0.1, 0.2, "0.3"),
        ("divide", 1, 3, "0.333333333333"),
    ],
)
def test_it_computes_each_operation(operation, a, b, expected):
    """Results are exact text: whole numbers without '.0', floats rounded."""
    assert calculate(operation, a, b) == expected


def test_it_shows_whole_results_of_float_arithmetic_as_integers():
    """15.0 is written 15, so the model quotes what a person would write."""
    assert calculate("multiply", 7.5, 2) == "15"
    assert "." not in calculate("divide", 9, 3)
    # Large whole floats too, where a plain %g format would switch to 1e+13.
    assert calculate("multiply", 2.5e6, 4e6) == "10000000000000"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2 + 3 * 4", "14"),
        ("(2 + 3) * 4", "20"),
        ("((1 + 2) * (3 + 4)) - 1", "20"),
        ("2 ** 3 ** 2", "512"),
        ("-2 ** 2", "-4"),
        ("(-2) ** 2", "4"),
        ("+7 - -3", "10"),
        ("7 // 2", "3"),
        ("7 % 3", "1"),
        ("10 / 4 * 2", "5"),
        ("2 ^ 10", "1024"),
        ("1.5 * 4", "6"),
    ],
)
def test_it_evaluates_expressions_with_precedence_and_parentheses(expression, expected):
    """Expressions follow Python's arithmetic precedence."""
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("x + 1", "Names such as 'x' are not allowed"),
        ("__import__('os').system('true')", "not allowed"),
        ("abs(-3)", "Function calls are not allowed"),
        ("(1).real", "Attribute access is not allowed"),
        ("'ab' * 3", "Only numbers are allowed"),
        ("True + 1", "Only numbers are allowed"),
        ("1 if 2 else 3", "Only numbers"),
        ("[1, 2]", "Only numbers"),
        ("5 & 3", "Only numbers"),
        ("1 < 2", "Only numbers"),
        ("2 +", "not a valid arithmetic expression"),
        ("", "empty"),
    ],
)
def test_it_refuses_anything_but_arithmetic(expression, message):
    """Names, calls, attributes and other syntax are rejected with a reason."""
    with pytest.raises(ToolInputError, match=message):
        evaluate(expression)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("9**9**9", "exponent 387420489 is too large"),
        ("10 ** 100000", "too large"),
        ("99999 ** 999", "too large"),
        ("2.5 ** 5000", "too large"),
        ("10.0 ** 400", "too large"),
        ("1e308 * 10", "too large"),
        ("(2 ** 1000) ** 4", "too large"),
    ],
)
def test_it_refuses_huge_results_without_computing_them(expression, message):
    """Huge powers are refused from their operands' sizes before any power is
    taken, so a request cannot tie up a worker (computed, 9**9**9 would not
    finish)."""
    with pytest.raises(ToolInputError, match=message):
        evaluate(expression)


def test_it_refuses_overlong_expressions():
    """Expressions longer than the limit are refused before parsing."""
    with pytest.raises(ToolInputError, match="too long"):
        evaluate("1 + " * 100 + "1")


@pytest.mark.parametrize("expression", ["1 / 0", "1 // 0", "1 % 0", "0 ** -1"])
def test_it_refuses_division_by_zero_in_expressions(expression):
    """Every way of dividing by zero gets the same clear message."""
    with pytest.raises(ToolInputError, match="Division by zero is undefined"):
        evaluate(expression)


def test_it_refuses_division_by_zero_as_an_operation():
    """divide with b = 0 is refused like the expression form."""
    with pytest.raises(ToolInputError, match="Division by zero"):
        calculate("divide", 3, 0)


def test_it_refuses_results_that_are_not_real_numbers():
    """A negative number to a fractional power has no real value."""
    with pytest.raises(ToolInputError, match="not a real number"):
        calculate("power", -8, 0.5)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"operation": "add", "a": 1, "b": None, "expression": None}, "both a and b"),
        ({"operation": "add", "a": True, "b": 1, "expression": None}, "a must be a"),
        ({"operation": "add", "a": "1", "b": 1, "expression": None}, "a must be a"),
        ({"operation": "sqrt", "a": 4, "b": None, "expression": None}, "Unknown"),
        ({"operation": "expression", "a": None, "b": None}, "expression string"),
    ],
)
def test_it_explains_unusable_arguments(arguments, message):
    """Missing or mistyped arguments say what the calculator needed."""
    with pytest.raises(ToolInputError, match=message):
        get_tool("calculator").invoke(arguments)


# The clock


def parse_clock(text):
    """The datetime and the zone name from current_time's answer."""
    stamp, zone, _abbreviation = text.split(" ")
    return datetime.fromisoformat(stamp), zone


def test_it_tells_the_time_in_utc_by_default():
    """A null time zone means UTC."""
    moment, zone = parse_clock(get_tool("current_time").invoke({"timezone": None}))
    assert zone == "UTC"
    assert moment.utcoffset() == timedelta(0)
    assert abs(moment - datetime.now(ZoneInfo("UTC"))) < timedelta(seconds=5)


def test_it_tells_the_time_in_a_named_zone():
    """The answer is ISO 8601 with the zone's current offset, then its name."""
    text = get_tool("current_time").invoke({"timezone": "Europe/Paris"})
    moment, zone = parse_clock(text)
    expected = datetime.now(ZoneInfo("Europe/Paris"))
    assert zone == "Europe/Paris"
    assert moment.utcoffset() == expected.utcoffset()
    assert text.endswith(f"({expected.tzname()})")
    assert abs(moment - expected) < timedelta(seconds=5)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "../../etc/passwd", "/etc"])
def test_it_refuses_an_unknown_time_zone_clearly(name):
    """Unknown or malformed zones name the problem and suggest real names."""
    with pytest.raises(ToolInputError, match="Unknown time zone") as raised:
        get_tool("current_time").invoke({"timezone": name})
    assert name in raised.value.message
    assert "IANA" in raised.value.message
