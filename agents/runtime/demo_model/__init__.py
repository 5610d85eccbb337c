"""The ``local/demo`` model: deterministic, offline, and good enough to show off.

``DemoModel`` answers without a network by reading the conversation it is given
and following fixed rules, in order:

1. on the first turn, hand off to the agent whose name and description share
   the most words with the user's message;
2. with the ``calculator`` tool and arithmetic in the message, call it once per
   operation ("5 + 10, then multiply by 3" is two calls) and give the result;
3. with a ``file_search`` tool and a question, search, then quote the passages
   found with their sources;
4. with a tool whose name or description shares words with the message, call
   it once with arguments built from its schema, then relay its result;
5. with an output schema, answer with JSON that fits it;
6. otherwise, reply briefly with what its instructions would have it do.

It is stateless: every turn is decided from the items since the latest user
message (tool calls and their outputs), so a run can resume anywhere. Before a
tool call it emits a reasoning item (a short "thought"), as reasoning models do.
Streaming yields the events the Responses API would, text word by word, and
ends with ``response.completed`` carrying the whole response and its usage.

Its modules: ``conversation`` reads the input items, ``words`` and
``arithmetic`` read the user's message, ``schemas`` fills JSON schemas,
``decisions`` picks the turn's behaviour, ``responses`` builds the Responses
API's items, usage and stream events, and ``model`` holds ``DemoModel`` and
``DemoModelProvider``; ``constants`` holds the names and limits.
"""

from agents.runtime.demo_model.arithmetic import (
    PREVIOUS,
    ArithmeticStep,
    plan_arithmetic,
)
from agents.runtime.demo_model.constants import (
    DEMO_MODEL_ID,
    DEMO_MODEL_LABEL,
    DEMO_MODEL_NAMES,
)
from agents.runtime.demo_model.model import DemoModel, DemoModelProvider
from agents.runtime.demo_model.schemas import ArgumentBuilder, fill_output

__all__ = [
    "DEMO_MODEL_ID",
    "DEMO_MODEL_LABEL",
    "DEMO_MODEL_NAMES",
    "PREVIOUS",
    "ArgumentBuilder",
    "ArithmeticStep",
    "DemoModel",
    "DemoModelProvider",
    "fill_output",
    "plan_arithmetic",
]
