"""Forms of the agent pages: they parse the shape of input; the services judge it.

Meaning (known models and tools, valid schemas and patterns, allowed guard
agents) is checked by ``agents.services`` through ``agents.definitions``, so the
builder and the API report the same messages.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from agents.definitions import TOOL_CHOICES
from agents.models import Agent, Category, RunStatus, Visibility
from billing.models import MILLI
from config import jsoninput


class ModelSelect(forms.Select):
    """A select whose options in ``disabled_values`` cannot be picked."""

    disabled_values: frozenset[str] = frozenset()

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if str(value) in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


class ToolsField(forms.MultipleChoiceField):
    """Checkboxes of the registry's tools; unknown names reach the service,
    which names the tools that exist."""

    def valid_value(self, value) -> bool:
        return True


def _temperature_field() -> forms.FloatField:
    return forms.FloatField(
        label=_("Temperature"),
        required=False,
        min_value=0,
        max_value=2,
        widget=forms.NumberInput(attrs={"step": "0.1", "placeholder": "1.0"}),
        help_text=_("From 0 to 2; lower is more predictable."),
    )


class ModelChoiceMixin:
    """A ``model`` select from the catalog, where models whose provider the
    user cannot use now are labelled and disabled."""

    def _set_model_choices(self, models, availability: dict[str, dict]) -> None:
        """Models whose provider the user cannot use now are labelled and
        disabled, except the one the agent already uses, so that editing an
        older agent keeps its model."""
        saved = self.initial.get("model")
        choices = []
        # Reasons by model identifier, and the providers to explain by the select.
        self.unavailable_models: dict[str, str] = {}
        providers: dict[str, dict] = {}
        for model in models:
            # A provider missing from the availability map is not judged here.
            state = availability.get(model.provider) or {}
            label = model.display_name
            if state.get("available") is False:
                label = _("%(model)s (unavailable)") % {"model": label}
                providers.setdefault(model.provider, state)
                if model.identifier != saved:
                    self.unavailable_models[model.identifier] = state.get("reason", "")
            choices.append((model.identifier, label))
        self.fields["model"].choices = choices
        self.fields["model"].widget.disabled_values = frozenset(self.unavailable_models)
        self.unavailable_providers = [
            {
                "id": provider_id,
                "name": state.get("name", provider_id),
                "reason": state.get("reason", ""),
            }
            for provider_id, state in providers.items()
        ]

    def clean_model(self) -> str:
        model = self.cleaned_data["model"]
        if model in self.unavailable_models:
            raise forms.ValidationError(
                self.unavailable_models[model]
                or _("This model is not available to you now.")
            )
        return model


class AgentForm(ModelChoiceMixin, forms.Form):
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
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("None")), *Category.choices],
        help_text=_("Where Discover lists it once public."),
    )
    long_description = forms.CharField(
        label=_("About this agent"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Markdown, shown on its public page: what it does, how to ask."),
    )
    example_prompts = forms.CharField(
        label=_("Example prompts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Up to five, one per line: visitors run them with one click."),
    )
    instructions = forms.CharField(
        label=_("Instructions"),
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What the agent is for and how it should behave."),
    )
    model = forms.ChoiceField(label=_("Model"), widget=ModelSelect)
    fallback_model = forms.ChoiceField(
        label=_("Fallback model"),
        required=False,
        help_text=_(
            "Takes over when the model still fails after its retries, or cannot "
            "be used; the run's timeline says so."
        ),
    )
    max_credits_per_run = forms.DecimalField(
        label=_("Most credits per run"),
        required=False,
        max_digits=12,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0.001"}),
        help_text=_(
            "A run of this agent never holds more; one that would cost more is "
            "refused, and one that spends it all stops. Empty for no limit of "
            "the agent's own."
        ),
    )
    temperature = _temperature_field()
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
        self,
        *args,
        models,
        tools,
        guard_agents,
        availability: dict[str, dict] | None = None,
        validate_url: str = "",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self._set_model_choices(models, availability or {})
        self.fields["fallback_model"].choices = [
            ("", _("None")),
            *self.fields["model"].choices,
        ]
        if validate_url:
            self._validate_live(validate_url)
        if self.unavailable_providers:
            described_by = self.fields["model"].widget.attrs.get("aria-describedby")
            self.fields["model"].widget.attrs["aria-describedby"] = " ".join(
                filter(None, [described_by, "id_model_availability"])
            )
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
            "category": agent.category,
            "long_description": agent.long_description,
            "example_prompts": "\n".join(agent.example_prompts or []),
            "instructions": agent.instructions,
            "model": agent.model,
            "fallback_model": agent.fallback_model,
            "max_credits_per_run": (
                None
                if agent.max_credits_per_run is None
                else Decimal(agent.max_credits_per_run) / MILLI
            ),
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
            "fallback_model": data.get("fallback_model") or "",
            "max_credits_per_run": data.get("max_credits_per_run"),
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
            "category": data.get("category") or "",
            "long_description": data.get("long_description") or "",
            "example_prompts": data.get("example_prompts") or "",
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
        # Not enough credits: the panel links to the Credits page.
        self.out_of_credits = "credits" in message_dict
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


PARAMETERS_EXAMPLE = json.dumps(
    {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city, e.g. Lisbon"},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city"],
    },
    indent=2,
)


class CustomToolForm(forms.Form):
    """A webhook tool's fields, judged by the service's own checks
    (``custom_tool_check``) so each message shows by its field.

    The secret header's value is never put back into the page: on an edit an
    empty value keeps the stored one.
    """

    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "The model calls the tool by this name: letters, digits, '_' or '-'."
        ),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the tool does and when to call it; the model reads it."),
    )
    parameters = forms.CharField(
        label=_("Parameters (JSON schema)"),
        widget=forms.Textarea(
            attrs={
                "rows": 12,
                "spellcheck": "false",
                "class": "code-input",
                "placeholder": PARAMETERS_EXAMPLE,
            }
        ),
        help_text=_(
            "The arguments the model sends, as a JSON schema whose top level is "
            "an object. Arguments that do not fit never reach the webhook."
        ),
    )
    webhook_url = forms.CharField(
        label=_("Webhook URL"),
        max_length=2000,
        widget=forms.URLInput(
            attrs={"placeholder": "https://hooks.example.com/forecast"}
        ),
        help_text=_(
            "Receives the arguments as a JSON POST; its answer goes back to the "
            "model. Private and internal addresses are refused."
        ),
    )
    secret_header_name = forms.CharField(
        label=_("Secret header name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": "Authorization", "autocomplete": "off"}
        ),
        help_text=_("A header sent with every call, e.g. Authorization."),
    )
    secret_header_value = forms.CharField(
        label=_("Secret header value"),
        required=False,
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "new-password"}
        ),
        help_text=_("Stored encrypted and never shown again."),
    )

    def __init__(self, *args, owner, tool=None, **kwargs):
        if tool is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": json.dumps(tool.parameters, indent=2),
                    "webhook_url": tool.webhook_url,
                    "secret_header_name": tool.secret_header_name,
                },
            )
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.tool = tool
        self.has_secret = bool(tool is not None and tool.secret_header_value)
        if tool is not None:
            self.fields["secret_header_name"].help_text = _(
                "A header sent with every call, e.g. Authorization. Empty it to "
                "stop sending the header."
            )
        if self.has_secret:
            self.fields["secret_header_value"].help_text = _(
                "Set — leave empty to keep it."
            )
            self.fields["secret_header_value"].widget.attrs["placeholder"] = _(
                "Set — leave empty to keep"
            )

    def clean_parameters(self) -> dict:
        text = self.cleaned_data["parameters"]
        try:
            return jsoninput.loads(text)
        except ValueError as error:  # not JSON, or nested too deeply
            raise forms.ValidationError(
                _("The parameters are not valid JSON: %(error)s") % {"error": error}
            ) from None

    def clean(self):
        from agents.services import custom_tool_check

        cleaned = super().clean()
        if cleaned.get("secret_header_value") and not cleaned.get(
            "secret_header_name", ""
        ):
            self.add_error(
                "secret_header_name", _("Give the header's name for this value.")
            )
        try:
            custom_tool_check(owner=self.owner, tool=self.tool, data=self._data())
        except forms.ValidationError as error:
            self.add_service_errors(error.message_dict)
        return cleaned

    def _data(self) -> dict:
        """The service's data from the fields that parsed; one that did not
        already has its message, so it is left out rather than reported twice."""
        data = self.cleaned_data
        result = {
            name: data[name]
            for name in ("name", "description", "parameters", "webhook_url")
            if name in data
        }
        if "secret_header_name" in data and "secret_header_value" in data:
            header_name = data["secret_header_name"].strip()
            secret_header = None
            if header_name:
                secret_header = {"name": header_name}
                if data["secret_header_value"]:
                    secret_header["value"] = data["secret_header_value"]
            result["secret_header"] = secret_header
        return result

    def service_data(self) -> dict:
        """What custom_tool_save takes, from the cleaned form."""
        return self._data()

    def add_service_errors(self, message_dict: dict[str, list[str]]) -> None:
        """Show the service's errors next to their fields (a field that already
        has an error, e.g. left empty, keeps just that one)."""
        for key, messages in message_dict.items():
            if key == "secret_header":
                # A name was given (else the header is simply removed): what is
                # missing or wrong is the value, unless the name is blank.
                key = (
                    "secret_header_value"
                    if self.cleaned_data.get("secret_header_name", "").strip()
                    else "secret_header_name"
                )
            if key not in self.fields:
                key = None
            elif key in self.errors:
                continue
            for message in messages:
                self.add_error(key, message)


class PlaygroundForm(ModelChoiceMixin, forms.Form):
    """Instructions, model and tools picked on the spot, and a message."""

    model = forms.ChoiceField(label=_("Model"), widget=ModelSelect)
    instructions = forms.CharField(
        label=_("Instructions"),
        max_length=20000,
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": _("You are a helpful assistant.")}
        ),
    )
    tools = ToolsField(
        label=_("Tools"), required=False, widget=forms.CheckboxSelectMultiple
    )
    temperature = _temperature_field()
    input = forms.CharField(
        label=_("Message"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Say something…")}),
    )
    conversation = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, models, tools, availability=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_model_choices(models, availability or {})
        self.fields["tools"].choices = [(tool.name, tool.name) for tool in tools]
        self.tool_descriptions = {tool.name: tool.description for tool in tools}

    def definition_data(self) -> dict:
        data = self.cleaned_data
        settings = {}
        if data.get("temperature") is not None:
            settings["temperature"] = data["temperature"]
        return {
            "instructions": data.get("instructions", ""),
            "model": data["model"],
            "tools": data.get("tools") or [],
            "model_settings": settings,
        }

    def add_service_errors(self, message_dict: dict[str, list[str]]) -> None:
        for key, messages in message_dict.items():
            target = key if key in self.fields else None
            if key == "model_settings":
                target = "temperature"
            for message in messages:
                self.add_error(target, message)


class PlaygroundSaveForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
