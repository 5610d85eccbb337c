"""Forms of the agent pages: they parse the shape of input; the services judge it.

Meaning (known models and tools, valid schemas and patterns, allowed guard
agents) is checked by ``agents.services`` through ``agents.definitions``, so the
builder and the API report the same messages.
"""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from agents.definitions import TOOL_CHOICES
from agents.models import Agent, RunStatus, Visibility


class ToolsField(forms.MultipleChoiceField):
    """Checkboxes of the registry's tools; unknown names reach the service,
    which names the tools that exist."""

    def valid_value(self, value) -> bool:
        return True


class AgentForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"required": True, "autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One or two sentences; others see it when you share the agent."),
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_("Separated by commas, e.g. maths, demo."),
    )
    visibility = forms.ChoiceField(
        label=_("Visibility"),
        choices=Visibility.choices,
        initial=Visibility.PRIVATE,
        help_text=_(
            "Private: only you. Unlisted: anyone signed in with the link. "
            "Public: listed for everyone."
        ),
    )
    instructions = forms.CharField(
        label=_("Instructions"),
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What the agent is for and how it should behave."),
    )
    model = forms.ChoiceField(label=_("Model"))
    temperature = forms.FloatField(
        label=_("Temperature"),
        required=False,
        min_value=0,
        max_value=2,
        widget=forms.NumberInput(attrs={"step": "0.1", "placeholder": "1.0"}),
        help_text=_("From 0 to 2; lower is more predictable."),
    )
    top_p = forms.FloatField(
        label=_("Top P"),
        required=False,
        min_value=0,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.05", "placeholder": "1.0"}),
        help_text=_("From 0 to 1."),
    )
    max_output_tokens = forms.IntegerField(
        label=_("Max output tokens"),
        required=False,
        min_value=1,
        max_value=128000,
        help_text=_("Empty for the model's default."),
    )
    tool_choice = forms.ChoiceField(
        label=_("Tool choice"),
        required=False,
        help_text=_("Whether the model must, may or must not call a tool."),
    )
    tools = ToolsField(
        label=_("Tools"), required=False, widget=forms.CheckboxSelectMultiple
    )
    output_type = forms.CharField(
        label=_("Output type (JSON schema)"),
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 8,
                "spellcheck": "false",
                "class": "code-input",
                "data-json-editor": "",
            }
        ),
        help_text=_(
            "Leave empty for a text answer. A JSON schema whose top level is an "
            "object makes the agent answer with JSON that fits it."
        ),
    )
    http_allowed_hosts = forms.CharField(
        label=_("Hosts http_request may call"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "code-input"}),
        help_text=_(
            "One per line, e.g. api.example.com, or .example.com for it and its "
            "subdomains. Private and internal addresses are always refused."
        ),
    )
    input_blocked_words = forms.CharField(
        label=_("Blocked words"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line; a request containing one is refused."),
    )
    input_blocked_patterns = forms.CharField(
        label=_("Blocked patterns"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "code-input"}),
        help_text=_("Regular expressions, one per line."),
    )
    input_max_length = forms.IntegerField(
        label=_("Max input length"),
        required=False,
        min_value=1,
        help_text=_("In characters; empty for no limit."),
    )
    input_guard_agent = forms.TypedChoiceField(
        label=_("Guard agent"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Another of your agents that must approve each request."),
    )
    output_blocked_words = forms.CharField(
        label=_("Blocked words"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line; an answer containing one is withheld."),
    )
    output_blocked_patterns = forms.CharField(
        label=_("Blocked patterns"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "code-input"}),
        help_text=_("Regular expressions, one per line."),
    )
    output_guard_agent = forms.TypedChoiceField(
        label=_("Guard agent"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Another of your agents that must approve each answer."),
    )

    # The service reports errors by definition field; these form fields make
    # up the ones that have no single input of their own.
    SECTION_FIELDS = {
        "tool_options": ("http_allowed_hosts",),
        "model_settings": (
            "temperature",
            "top_p",
            "max_output_tokens",
            "tool_choice",
        ),
        "guardrails": (
            "input_blocked_words",
            "input_blocked_patterns",
            "input_max_length",
            "input_guard_agent",
            "output_blocked_words",
            "output_blocked_patterns",
            "output_guard_agent",
        ),
    }

    # Fields checked on the server as the user types or leaves them.
    LIVE_FIELDS = (
        "name",
        "tags",
        "model",
        "temperature",
        "top_p",
        "max_output_tokens",
        "tool_choice",
        "output_type",
        "input_blocked_patterns",
        "input_max_length",
        "output_blocked_patterns",
    )

    def __init__(
        self, *args, models, tools, guard_agents, validate_url: str = "", **kwargs
    ):
        super().__init__(*args, **kwargs)
        if validate_url:
            self._validate_live(validate_url)
        self.fields["model"].choices = [(m.identifier, m.display_name) for m in models]
        self.fields["tools"].choices = [(tool.name, tool.name) for tool in tools]
        self.tool_descriptions = {tool.name: tool.description for tool in tools}
        self.fields["tool_choice"].choices = [
            ("", _("Default (auto)")),
            *((choice, choice) for choice in TOOL_CHOICES),
            *(
                (tool.name, _("Always %(tool)s") % {"tool": tool.name})
                for tool in tools
            ),
        ]
        guard_choices = [("", _("None"))] + [(a.pk, a.name) for a in guard_agents]
        self.fields["input_guard_agent"].choices = guard_choices
        self.fields["output_guard_agent"].choices = guard_choices
        # Section errors from the service, e.g. {"guardrails": [...]}.
        self.section_errors: dict[str, list[str]] = {}

    def _validate_live(self, url: str) -> None:
        for name in self.LIVE_FIELDS:
            widget = self.fields[name].widget
            is_select = isinstance(widget, forms.Select)
            widget.attrs.update(
                {
                    "hx-post": url,
                    "hx-trigger": (
                        "change" if is_select else "input changed delay:500ms, blur"
                    ),
                    "hx-target": f"#id_{name}_error",
                    "hx-swap": "outerHTML",
                    "hx-sync": "this:replace",
                }
            )
        for name, field in self.fields.items():
            described_by = [f"id_{name}_error"]
            if field.help_text:
                described_by.append(f"id_{name}_helptext")
            field.widget.attrs.setdefault("aria-describedby", " ".join(described_by))

    @staticmethod
    def initial_for(agent: Agent) -> dict:
        """The form's values for an existing agent."""
        settings = agent.model_settings or {}
        guardrails = agent.guardrails or {}
        guard_input = guardrails.get("input", {})
        guard_output = guardrails.get("output", {})
        return {
            "name": agent.name,
            "description": agent.description,
            "tags": ", ".join(agent.tags),
            "visibility": agent.visibility,
            "instructions": agent.instructions,
            "model": agent.model,
            "temperature": settings.get("temperature"),
            "top_p": settings.get("top_p"),
            "max_output_tokens": settings.get("max_output_tokens"),
            "tool_choice": settings.get("tool_choice", ""),
            "tools": list(agent.tools),
            "http_allowed_hosts": "\n".join(
                (agent.tool_options or {})
                .get("http_request", {})
                .get("allowed_hosts", [])
            ),
            "output_type": (
                json.dumps(agent.output_type, indent=2) if agent.output_type else ""
            ),
            "input_blocked_words": "\n".join(guard_input.get("blocked_words", [])),
            "input_blocked_patterns": "\n".join(
                guard_input.get("blocked_patterns", [])
            ),
            "input_max_length": guard_input.get("max_length"),
            "input_guard_agent": guard_input.get("guard_agent"),
            "output_blocked_words": "\n".join(guard_output.get("blocked_words", [])),
            "output_blocked_patterns": "\n".join(
                guard_output.get("blocked_patterns", [])
            ),
            "output_guard_agent": guard_output.get("guard_agent"),
        }

    @property
    def guardrails_in_use(self) -> bool:
        """Whether any guardrail has a value or an error (the section opens)."""
        names = self.SECTION_FIELDS["guardrails"]
        if self.section_errors.get("guardrails"):
            return True
        return any(self[name].errors or self[name].value() for name in names)

    def model_settings_data(self) -> dict:
        data = self.cleaned_data
        settings = {
            key: data.get(key)
            for key in ("temperature", "top_p", "max_output_tokens", "tool_choice")
        }
        return {
            key: value for key, value in settings.items() if value not in (None, "")
        }

    def guardrails_data(self) -> dict:
        data = self.cleaned_data
        guardrails = {}
        for stage in ("input", "output"):
            keys = ["blocked_words", "blocked_patterns", "guard_agent"]
            if stage == "input":
                keys.append("max_length")
            values = {key: data.get(f"{stage}_{key}") for key in keys}
            values = {k: v for k, v in values.items() if v not in (None, "")}
            if values:
                guardrails[stage] = values
        return guardrails

    def service_data(self) -> dict:
        """What agent_create / agent_update take, from the cleaned form."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "instructions": data["instructions"],
            "model": data["model"],
            "model_settings": self.model_settings_data(),
            "tools": data["tools"],
            "tool_options": (
                {"http_request": {"allowed_hosts": data["http_allowed_hosts"].split()}}
                if data.get("http_allowed_hosts", "").strip()
                else {}
            ),
            "guardrails": self.guardrails_data(),
            "output_type": data["output_type"].strip() or None,
            "tags": data["tags"],
            "visibility": data["visibility"],
        }

    def add_service_errors(self, message_dict: dict[str, list[str]]) -> None:
        """Show the service's errors next to their fields or sections."""
        for key, messages in message_dict.items():
            if key in self.fields:
                for message in messages:
                    self.add_error(key, message)
            elif key in self.SECTION_FIELDS:
                self.section_errors.setdefault(key, []).extend(messages)
            else:
                for message in messages:
                    self.add_error(None, message)


class RunForm(forms.Form):
    input = forms.CharField(
        label=_("Input"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("Ask the agent something…")}
        ),
    )
    version = forms.TypedChoiceField(
        label=_("Version"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, versions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [("", _("Latest"))] + [
            (v.number, _("Version %(number)d") % {"number": v.number}) for v in versions
        ]

    def add_service_errors(self, message_dict: dict[str, list[str]]) -> None:
        for key, messages in message_dict.items():
            for message in messages:
                self.add_error(key if key in self.fields else None, message)


class RunFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *RunStatus.choices],
    )
    agent = forms.TypedChoiceField(
        label=_("Agent"), required=False, coerce=int, empty_value=None
    )
    q = forms.CharField(
        label=_("Input contains"), required=False, max_length=200, strip=True
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [("", _("Any agent"))] + [
            (a.pk, a.name) for a in agents
        ]


class VersionCompareForm(forms.Form):
    a = forms.TypedChoiceField(label=_("From"), coerce=int)
    b = forms.TypedChoiceField(label=_("To"), coerce=int)

    def __init__(self, *args, versions=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (v.number, _("Version %(number)d") % {"number": v.number}) for v in versions
        ]
        self.fields["a"].choices = choices
        self.fields["b"].choices = choices
