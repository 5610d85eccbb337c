"""The ``calculator`` tool: exact arithmetic without ``eval``.

Expressions are parsed with ``ast`` and walked by hand; only numbers, the
arithmetic operators and parentheses are accepted. Sizes are capped before
any work is done, so ``9**9**9`` is refused instead of hanging the worker.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from agents.tools.registry import BuiltinTool, ToolInputError, register

OPERATIONS = ("add", "subtract", "multiply", "divide", "power", "expression")
MAX_EXPRESSION_LENGTH = 200
MAX_EXPONENT = 1000
# About 1,000 decimal digits: enough for any honest question, small enough
# that computing and printing it is instant.
MAX_RESULT_BITS = 3400

Number = int | float

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "operation": {
            "type": "string",
            "enum": list(OPERATIONS),
            "description": (
                "add, subtract, multiply, divide or power use a and b; "
                "expression evaluates the expression string."
            ),
        },
        "a": {
            "type": ["number", "null"],
            "description": "The first operand; null for expression.",
        },
        "b": {
            "type": ["number", "null"],
            "description": "The second operand (the exponent for power); "
            "null for expression.",
        },
        "expression": {
            "type": ["string", "null"],
            "description": (
                "An arithmetic expression such as (2 + 3) * 4 ** 2, using numbers, "
                "+ - * / // % ** and parentheses; null for the other operations."
            ),
        },
    },
    "required": ["operation", "a", "b", "expression"],
    "additionalProperties": False,
}


def _checked(value: Number) -> Number:
    if isinstance(value, complex):
        raise ToolInputError("The result is not a real number.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolInputError("The result is too large to compute.")
    if isinstance(value, int) and abs(value).bit_length() > MAX_RESULT_BITS:
        raise ToolInputError("The result is too large (more than about 1000 digits).")
    return value


def _power(base: Number, exponent: Number) -> Number:
    if abs(exponent) > MAX_EXPONENT:
        raise ToolInputError(
            f"The exponent {format_number(exponent)} is too large "
            f"(the limit is {MAX_EXPONENT})."
        )
    # Checked before computing: a large base to a moderate power can still
    # take a long time to produce a number nobody asked for.
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and exponent > 0
        and abs(base).bit_length() * exponent > MAX_RESULT_BITS + exponent
    ):
        raise ToolInputError("The result is too large (more than about 1000 digits).")
    return base**exponent


def _divide(a: Number, b: Number) -> Number:
    return a / b


_BINARY: dict[type[ast.operator], Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: _divide,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: _power,
}
_UNARY: dict[type[ast.unaryop], Callable[[Number], Number]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_BY_OPERATION: dict[str, Callable[[Number, Number], Number]] = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": _divide,
    "power": _power,
}


def _apply(function: Callable[..., Number], *operands: Number) -> Number:
    try:
        return _checked(function(*operands))
    except ZeroDivisionError:
        raise ToolInputError("Division by zero is undefined.") from None
    except OverflowError:
        raise ToolInputError("The result is too large to compute.") from None


def _evaluate(node: ast.AST) -> Number:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ToolInputError(f"Only numbers are allowed, not {value!r}.")
        return value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _evaluate(node.left)
        right = _evaluate(node.right)
        return _apply(_BINARY[type(node.op)], left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _apply(_UNARY[type(node.op)], _evaluate(node.operand))
    if isinstance(node, ast.Name):
        raise ToolInputError(
            f"Names such as {node.id!r} are not allowed; use numbers only."
        )
    if isinstance(node, ast.Call):
        raise ToolInputError("Function calls are not allowed; use + - * / // % **.")
    if isinstance(node, ast.Attribute):
        raise ToolInputError("Attribute access is not allowed; use numbers only.")
    raise ToolInputError(
        "Only numbers, + - * / // % **, unary + and -, and parentheses are allowed."
    )


def evaluate_expression(expression: str) -> Number:
    """The value of an arithmetic expression; ``ToolInputError`` if refused."""
    expression = expression.strip()
    if not expression:
        raise ToolInputError("The expression is empty.")
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ToolInputError(
            f"The expression is too long (the limit is {MAX_EXPRESSION_LENGTH} "
            "characters)."
        )
    # People write powers as ^ (Python's bitwise xor), products as the
    # multiplication sign and quotients as the division sign.
    expression = expression.replace("^", "**")
    expression = expression.replace("\u00d7", "*").replace("\u00f7", "/")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ToolInputError(
            f"{expression!r} is not a valid arithmetic expression."
        ) from None
    return _evaluate(tree)


def format_number(value: Number) -> str:
    """Integers without ``.0``; other floats to 12 significant digits."""
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ToolInputError("The result is too large to compute.")
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.12g}"


def _operand(arguments: dict[str, Any], key: str, operation: str) -> Number:
    value = arguments.get(key)
    if value is None:
        raise ToolInputError(f"{operation} needs both a and b.")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolInputError(f"{key} must be a number, not {value!r}.")
    return value


def calculate(arguments: dict[str, Any]) -> str:
    """The result of one calculator call, as text."""
    operation = arguments.get("operation")
    if operation == "expression":
        expression = arguments.get("expression")
        if not isinstance(expression, str):
            raise ToolInputError("expression needs an expression string.")
        return format_number(evaluate_expression(expression))
    if operation not in _BY_OPERATION:
        raise ToolInputError(
            f"Unknown operation {operation!r}; use one of {', '.join(OPERATIONS)}."
        )
    a = _operand(arguments, "a", operation)
    b = _operand(arguments, "b", operation)
    return format_number(_apply(_BY_OPERATION[operation], a, b))


calculator = register(
    BuiltinTool(
        name="calculator",
        description=(
            "Exact arithmetic: add, subtract, multiply, divide or raise a to the "
            "power b, or evaluate an arithmetic expression with parentheses."
        ),
        parameters=PARAMETERS,
        handler=calculate,
    )
)
