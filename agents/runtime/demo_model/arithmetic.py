"""Arithmetic in words: the calculator calls that answer a message, in order."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, cast

from agents.runtime.demo_model.constants import MAX_ARITHMETIC_STEPS
from agents.runtime.demo_model.phrasing import rewrite_everyday
from agents.tools.calculator import format_number

PREVIOUS = "previous"
Operand = int | float | str  # a number, or PREVIOUS for the last result

SYMBOLS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "**": "power"}
VERBS = {
    "add": "add",
    "sum": "add",
    "subtract": "subtract",
    "deduct": "subtract",
    "multiply": "multiply",
    "product": "multiply",
    "divide": "divide",
    "quotient": "divide",
}
SHORTHANDS: dict[str, tuple[str, int | float]] = {
    "sqrt": ("power", 0.5),
    "cbrt": ("power", 1 / 3),
    "square": ("power", 2),
    "cube": ("power", 3),
    "double": ("multiply", 2),
    "triple": ("multiply", 3),
    "halve": ("divide", 2),
}
PHRASES = [
    (r"\b(?:the\s+)?square\s+root\s+of\b|\bsqrt\s+of\b", " sqrt "),
    (r"\b(?:the\s+)?cube\s+root\s+of\b", " cbrt "),
    (r"\bhalf\s+of\b", " 0.5 * "),
    (r"\b(?:a|one)\s+third\s+of\b", " 1 / 3 * "),
    (r"\b(?:a|one)\s+quarter\s+of\b", " 0.25 * "),
    (r"\btwice\b", " 2 * "),
    (r"\b(?:raised\s+)?to\s+the\s+power\s+of\b|\braised\s+to\b", " ** "),
    (r"\bmultiplied\s+by\b|\btimes\b", " * "),
    (r"\bdivided\s+by\b", " / "),
    (r"\bplus\b", " + "),
    (r"\bminus\b", " - "),
    (r"\bsquared\b", " ** 2 "),
    (r"\bcubed\b", " ** 3 "),
    (r"\bmod(?:ulo)?\b", " % "),
    (r"(?<=\d)\s*x\s*(?=\d)", " * "),
]
# Words that may stand around the number a chain starts from.
LEAD_WORDS = frozenset(
    [
        "what",
        "is",
        "start",
        "starting",
        "begin",
        "beginning",
        "with",
        "take",
        "from",
        "the",
        "number",
        "calculate",
        "compute",
    ]
)
CLAUSE_BREAK = re.compile(
    r"\band\s+then\b|\bthen\b|\bafter\s+that\b|\band\s+finally\b|[,;]|(?<!\d)\.(?!\d)"
)
TOKEN = re.compile(r"\d+(?:\.\d+)?|\*\*|//|[-+*/%()]|[a-z]+")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
ARITHMETIC_TOKEN = re.compile(r"\d+(?:\.\d+)?|\*\*|//|[-+*/%()]")


@dataclass(frozen=True)
class ArithmeticStep:
    """One calculator call; ``PREVIOUS`` stands for the last result."""

    operation: str
    a: Operand | None = None
    b: Operand | None = None
    expression: str | None = None

    def arguments(self, previous: int | float | None) -> dict[str, Any]:
        def resolve(operand: Operand | None) -> int | float | None:
            return previous if operand == PREVIOUS else cast(Any, operand)

        return {
            "operation": self.operation,
            "a": resolve(self.a),
            "b": resolve(self.b),
            "expression": self.expression,
        }


def describe_operation(arguments: dict[str, Any]) -> str:
    """ "add 5 and 10", "multiply 15 by 3", "evaluate (2 + 3) * 4"."""
    operation = arguments.get("operation")
    if operation == "expression":
        return f"evaluate {arguments.get('expression')}"

    def show(value: Any) -> str:
        return format_number(value) if isinstance(value, int | float) else str(value)

    a, b = show(arguments.get("a")), show(arguments.get("b"))
    return {
        "add": f"add {a} and {b}",
        "subtract": f"subtract {b} from {a}",
        "multiply": f"multiply {a} by {b}",
        "divide": f"divide {a} by {b}",
        "power": f"raise {a} to the power of {b}",
    }.get(str(operation), f"{operation} {a} and {b}")


def show_calculation(arguments: dict[str, Any]) -> str:
    if arguments.get("operation") == "expression":
        return str(arguments.get("expression"))
    symbol = {v: k for k, v in SYMBOLS.items()}.get(str(arguments.get("operation")))
    a, b = arguments.get("a"), arguments.get("b")
    if isinstance(a, int | float) and isinstance(b, int | float) and symbol:
        return f"{format_number(a)} {symbol} {format_number(b)}"
    return describe_operation(arguments)


def _number(token: str) -> int | float:
    return float(token) if "." in token else int(token)


def _is_number(token: str) -> bool:
    return token[0].isdigit()


def _arithmetic_runs(tokens: list[str]) -> list[list[str]]:
    runs: list[list[str]] = [[]]
    for token in tokens:
        if ARITHMETIC_TOKEN.fullmatch(token):
            runs[-1].append(token)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _valid_expression(tokens: list[str]) -> bool:
    try:
        compile(" ".join(tokens), "<arithmetic>", "eval")
    except SyntaxError:
        return False
    return True


def _step_from_run(run: list[str], has_previous: bool) -> ArithmeticStep | None:
    # "then times 3" became "* 3": an operation on the previous result.
    if has_previous and len(run) == 2 and run[0] in SYMBOLS and _is_number(run[1]):
        return ArithmeticStep(SYMBOLS[run[0]], PREVIOUS, _number(run[1]))
    while run and run[0] in {"*", "/", "**", "//", "%", ")"}:
        run = run[1:]
    while run and not (_is_number(run[-1]) or run[-1] == ")"):
        run = run[:-1]
    numbers = [token for token in run if _is_number(token)]
    if len(numbers) < 2 or not _valid_expression(run):
        return None
    if len(run) == 3 and run[1] in SYMBOLS:
        return ArithmeticStep(SYMBOLS[run[1]], _number(run[0]), _number(run[2]))
    expression = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", " ".join(run)))
    return ArithmeticStep("expression", expression=expression)


def _step_from_words(tokens: list[str], has_previous: bool) -> ArithmeticStep | None:
    numbers = [_number(token) for token in tokens if _is_number(token)]
    for word, (operation, amount) in SHORTHANDS.items():
        if word in tokens:
            if numbers:
                return ArithmeticStep(operation, numbers[0], amount)
            if has_previous:
                return ArithmeticStep(operation, PREVIOUS, amount)
    verb = next((VERBS[token] for token in tokens if token in VERBS), None)
    if verb is None:
        return None
    # "subtract 3 from 10" is 10 - 3.
    reverse = verb == "subtract" and "from" in tokens
    if len(numbers) >= 2:
        a, b = numbers[0], numbers[1]
        return ArithmeticStep(verb, b, a) if reverse else ArithmeticStep(verb, a, b)
    if len(numbers) == 1 and has_previous:
        if reverse:
            return ArithmeticStep(verb, numbers[0], PREVIOUS)
        return ArithmeticStep(verb, PREVIOUS, numbers[0])
    return None


def _starting_from(step: ArithmeticStep, start: int | float) -> ArithmeticStep:
    return replace(
        step,
        a=start if step.a == PREVIOUS else step.a,
        b=start if step.b == PREVIOUS else step.b,
    )


def _lone_number(tokens: list[str]) -> int | float | None:
    numbers = [token for token in tokens if _is_number(token)]
    others = [token for token in tokens if not _is_number(token)]
    if len(numbers) == 1 and all(word in LEAD_WORDS for word in others):
        return _number(numbers[0])
    return None


def plan_arithmetic(text: str, *, continues: bool = False) -> list[ArithmeticStep]:
    """The calculator calls that answer ``text``, in order; empty if none.

    ``continues``: there is an earlier result (a conversation's last answer),
    so "multiply by 3" alone is a step on it.
    """
    normalized = text.lower()
    normalized = normalized.replace("\u00d7", "*").replace("\u00f7", "/")
    normalized = normalized.replace("\u2212", "-")
    normalized = normalized.replace("^", "**")
    # Dates, clock times and thousands separators are not sums.
    normalized = re.sub(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}\b", " ", normalized)
    normalized = re.sub(r"(?<=\d),(?=\d{3}\b)", "", normalized)
    normalized = rewrite_everyday(normalized)
    for pattern, replacement in PHRASES:
        normalized = re.sub(pattern, replacement, normalized)
    steps: list[ArithmeticStep] = []
    # "7, then multiply by 2": a clause that is one number starts the chain.
    start: int | float | None = None
    for clause in CLAUSE_BREAK.split(normalized):
        tokens = TOKEN.findall(clause)
        has_previous = bool(steps) or continues or start is not None
        step = None
        for run in sorted(_arithmetic_runs(tokens), key=len, reverse=True):
            step = _step_from_run(run, has_previous)
            if step:
                break
        step = step or _step_from_words(tokens, has_previous)
        if step and not steps and start is not None:
            step = _starting_from(step, start)
        if step:
            steps.append(step)
        elif not steps and start is None:
            start = _lone_number(tokens)
        if len(steps) >= MAX_ARITHMETIC_STEPS:
            break
    # A number the plan leaves out ("45 minutes plus 30 minutes in hours")
    # means the question was not understood: no answer beats a wrong one.
    if steps and _unused_numbers(normalized, steps, start):
        return []
    return steps


def _unused_numbers(
    text: str, steps: list[ArithmeticStep], start: int | float | None
) -> bool:
    written = Counter(float(number) for number in NUMBER.findall(text))
    used: Counter[float] = Counter()
    if start is not None:
        used[float(start)] += 1
    for step in steps:
        for operand in (step.a, step.b):
            if isinstance(operand, int | float):
                used[float(operand)] += 1
        for number in NUMBER.findall(step.expression or ""):
            used[float(number)] += 1
    return bool(written - used)
