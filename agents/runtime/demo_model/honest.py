"""What the demo model says when it cannot do what was asked: plainly that it
cannot, what it can do, and how to connect a real model."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from agents.runtime.demo_model.words import shorten

CAN_DO = (
    "it does arithmetic, answers from attached files, summarizes text, "
    "sorts requests into categories and checks drafts against stated rules"
)


def provider_keys_path() -> str:
    try:
        return reverse("provider_keys")
    except NoReverseMatch:  # a URLconf without the agents pages
        return "/settings/provider-keys/"


def connect_a_real_model() -> str:
    return (
        "To connect a real model in two minutes: set OPENAI_API_KEY for the "
        f"site, add your own provider key at {provider_keys_path()}, or run "
        'Ollama (OLLAMA_BASE_URL) — see "Use a real model" in the README.'
    )


def cannot_write(text: str, *, instructions: str = "") -> str:
    """The answer to a request that needs a generative model: what kind of
    writing it asks for, from the request, else from the agent's
    instructions ("Answer with one haiku")."""
    kind = _kind_of_request(text) or _kind_of_request(instructions)
    kind = kind or "an answer to this"
    return (
        f"The offline model (local/demo) cannot write {kind}: it does not "
        f"generate text; {CAN_DO}. {connect_a_real_model()}"
    )


def cannot_parse_arithmetic(text: str) -> str:
    return (
        f'I could not work out the arithmetic in "{shorten(text, 120)}", so I '
        "will not guess a number. Write it with numbers and operations, for "
        'example "12.5% of 640", "(2 + 3) * 4", "7, then multiply by 2" or '
        '"how many minutes in 3.5 hours".'
    )


KINDS = [
    (("haiku", "poem", "poetry", "verse", "rhyme", "limerick", "sonnet"), "poetry"),
    (("story", "essay", "article", "blog", "letter", "email", "explainer"), "prose"),
    (
        ("translate", "translation", "in french", "in spanish", "in german"),
        "a translation",
    ),
    (("review", "refactor", "bug", "def ", "function", "code"), "a code review"),
    (("quiz", "trivia", "joke", "riddle"), "a quiz or a joke"),
]


def _kind_of_request(text: str) -> str:
    lower = text.lower()
    for words, kind in KINDS:
        if any(word in lower for word in words):
            return kind
    return ""
