"""The ``local/demo`` model: deterministic, offline, and useful where no
generative model is needed.

``DemoModel`` answers without a network by reading the conversation it is given
and following fixed rules, in order:

1. a tool the settings force is called first;
2. on the first turn, hand off to the agent whose name and description share
   the most words with the user's message;
3. with an output schema whose verdict can pass or revise (a reviewer), check
   what can be checked: not empty, length limits and required words the task
   states, valid JSON when asked;
4. with the ``calculator`` tool and arithmetic in the message (percentages,
   chains, parentheses, powers, units of time), call it once per operation
   and give the result; a number it cannot place means no answer, never a
   guess;
5. with a ``file_search`` tool and a question, search, then quote the best
   passage's most relevant sentences with its file, page and section, or say
   that nothing in the files is about it;
6. for "Summarize: …" (or an agent told to summarize), the most central
   sentences by meaning, of the length asked;
7. with an output schema with an enum, pick each value by meaning, with a
   confidence;
8. arithmetic without the calculator: the calculator's evaluator, run here,
   saying so;
9. with a tool whose name or description shares words with the message, call
   it once with arguments built from its schema, then relay its result;
10. otherwise, say plainly that it cannot write this and how to connect a
    real model.

It is stateless: every turn is decided from the items since the latest user
message (tool calls and their outputs), so a run can resume anywhere. Before a
tool call it emits a reasoning item (a short "thought"), as reasoning models do.
Streaming yields the events the Responses API would, text word by word, and
ends with ``response.completed`` carrying the whole response and its usage.

Its modules: ``conversation`` reads the input items, ``words``, ``phrasing``
and ``arithmetic`` read the user's message, ``meaning`` embeds text with the
local MiniLM (loaded on first use), ``passages``, ``summaries``, ``classify``
and ``review`` do those tasks, ``honest`` says what it cannot do, ``schemas``
fills JSON schemas, ``matching`` finds the tool a message is about,
``decisions`` picks the turn's behaviour (a ``plans`` item), ``responses``
builds the Responses API's items, usage and stream events, and ``model``
holds ``DemoModel`` and ``DemoModelProvider``; ``constants`` holds the names
and limits.
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
