"""REST endpoints for agents, versions, runs, the model catalog and tools.

Reads go through selectors (a resource you may not see is a 404, one you may
see but not change is a 403); writes go through the same services as the pages.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from agents import selectors, services
from agents.models import (
    Agent,
    AgentVersion,
    Category,
    Conversation,
    CustomTool,
    LanguageModel,
    ProviderKey,
    RunStatus,
    Visibility,
    rating_average_of,
)
from agents.payloads import run_to_dict
from agents.services import sharing
from billing.credits_off import CreditsOnMixin
from billing.pricing import as_credits
from config.api import (
    CountedRowsPagination,
    FormParser,
    JSONParser,
    MultiPartParser,
    raise_as_drf,
)
from config.fragments import fragment_cache, fragment_key


def _credits_or_none(milli: int | None) -> int | float | None:
    return None if milli is None else as_credits(milli)


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "properties": {
            "id": {"type": "integer"},
            "owner": {"type": "string"},
            "name": {"type": "string"},
            "url": {"type": "string"},
        },
    }
)
class ForkOriginField(serializers.Field):
    """The agent a fork came from: its id, owner and page, or null (not a
    fork, or its origin was deleted)."""

    def to_representation(self, origin):
        return {
            "id": origin.pk,
            "owner": origin.owner.username,
            "name": origin.name,
            "url": origin.get_listing_url(),
        }


class AgentSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    rating_average = serializers.FloatField(read_only=True, allow_null=True)
    forked_from = ForkOriginField(read_only=True, allow_null=True)
    url = serializers.CharField(
        source="get_listing_url", read_only=True, help_text="The agent's page."
    )
    version = serializers.IntegerField(source="version_number", read_only=True)
    # Declared for the schema: a read-only field built from the model loses
    # allow_blank, and an agent with no category has "".
    category = serializers.ChoiceField(
        choices=Category.choices, allow_blank=True, read_only=True
    )
    model_label = serializers.SerializerMethodField()
    max_credits_per_run = serializers.SerializerMethodField(
        help_text="The most credits one run of this agent may spend; null for "
        "no limit of the agent's own."
    )

    class Meta:
        model = Agent
        fields = [
            "id",
            "owner",
            "name",
            "slug",
            "description",
            "instructions",
            "model",
            "model_label",
            "fallback_model",
            "max_credits_per_run",
            "model_settings",
            "tools",
            "tool_options",
            "guardrails",
            "output_type",
            "tags",
            "visibility",
            "category",
            "long_description",
            "example_prompts",
            "version",
            "rating_average",
            "rating_count",
            "fork_count",
            "run_count",
            "forked_from",
            "forked_from_version",
            "url",
            "published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_model_label(self, agent) -> str:
        return self._model_labels().get(agent.model, agent.model)

    def get_max_credits_per_run(self, agent) -> float | None:
        return _credits_or_none(agent.max_credits_per_run)

    def to_representation(self, agent) -> dict:
        """The fields above, built directly: ModelSerializer's generic path
        (building every field, then a lookup and a call per field and row)
        was most of the time of a list of agents. The declared fields stay
        for input-free schema generation, and a test holds this output equal
        to the generic one (tests/agents/test_agent_payload.py)."""
        # One field instance per list rather than one per row.
        timestamp = self.context.get("timestamp_field")
        if timestamp is None:
            timestamp = self.context["timestamp_field"] = serializers.DateTimeField()
        origin = agent.forked_from
        rating_average = agent.rating_average
        return {
            "id": agent.pk,
            "owner": agent.owner.username,
            "name": agent.name,
            "slug": agent.slug,
            "description": agent.description,
            "instructions": agent.instructions,
            "model": agent.model,
            "model_label": self.get_model_label(agent),
            "fallback_model": agent.fallback_model,
            "max_credits_per_run": _credits_or_none(agent.max_credits_per_run),
            "model_settings": agent.model_settings,
            "tools": agent.tools,
            "tool_options": agent.tool_options,
            "guardrails": agent.guardrails,
            "output_type": agent.output_type,
            "tags": [None if tag is None else str(tag) for tag in agent.tags],
            "visibility": agent.visibility,
            "category": agent.category,
            "long_description": agent.long_description,
            "example_prompts": agent.example_prompts,
            "version": agent.version_number,
            "rating_average": None if rating_average is None else float(rating_average),
            "rating_count": agent.rating_count,
            "fork_count": agent.fork_count,
            "run_count": agent.run_count,
            "forked_from": None
            if origin is None
            else ForkOriginField().to_representation(origin),
            "forked_from_version": agent.forked_from_version,
            "url": agent.get_listing_url(),
            "published_at": timestamp.to_representation(agent.published_at),
            "created_at": timestamp.to_representation(agent.created_at),
            "updated_at": timestamp.to_representation(agent.updated_at),
        }

    def _model_labels(self) -> dict[str, str]:
        # The serializer of each row of a list shares its parent's context.
        labels = self.context.get("model_labels")
        if labels is None:
            labels = self.context["model_labels"] = selectors.model_labels()
        return labels


class AgentWriteSerializer(serializers.Serializer):
    """The shape of a write; the service checks meaning (models, tools, schemas)."""

    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=2000, allow_blank=True)
    instructions = serializers.CharField(max_length=20000, allow_blank=True)
    model = serializers.CharField(max_length=150)
    fallback_model = serializers.CharField(
        max_length=150,
        allow_blank=True,
        help_text="A model used for the rest of a run when `model` still fails "
        "after its retries (or cannot be used); empty for none.",
    )
    max_credits_per_run = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        allow_null=True,
        help_text="The most credits one run may spend: a run's budget is at "
        "most this, and a run estimated to cost more is refused. Null for no "
        "limit of the agent's own.",
    )
    model_settings = serializers.JSONField(
        help_text="temperature (0 to 2), top_p (0 to 1), max_output_tokens, tool_choice"
    )
    tools = serializers.ListField(
        child=serializers.CharField(max_length=100),
        help_text="Built-in tool names, `custom/<id>` for your webhook tools and "
        "`agent/<id>` for agents (yours or shared) run as tools.",
    )
    tool_options = serializers.JSONField(
        help_text='Per-tool settings: {"http_request": {"allowed_hosts": '
        '["api.example.com", ".example.org"]}}'
    )
    guardrails = serializers.JSONField(
        help_text='{"input": {"blocked_words": [], "blocked_patterns": [], '
        '"max_length": null, "guard_agent": null}, "output": {...}}'
    )
    output_type = serializers.JSONField(
        allow_null=True, help_text="A JSON schema with an object at the top, or null."
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=40))
    visibility = serializers.ChoiceField(
        choices=Visibility.choices,
        help_text="`public` publishes the agent: Discover lists it.",
    )
    category = serializers.CharField(
        max_length=20,
        allow_blank=True,
        help_text="writing, coding, data, education, productivity, research, "
        "fun or other; empty for none.",
    )
    long_description = serializers.CharField(
        max_length=10000, allow_blank=True, help_text="Markdown, shown sanitized."
    )
    example_prompts = serializers.JSONField(
        help_text="Up to 5 prompts a visitor can run with one click."
    )


class VersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, default=None
    )

    class Meta:
        model = AgentVersion
        fields = ["number", "definition", "created_by", "created_at"]
        read_only_fields = fields

    def to_representation(self, version):
        data = super().to_representation(version)
        definition = data.get("definition")
        if isinstance(definition, dict) and "max_credits_per_run" in definition:
            # Stored in milli-credits, shown in credits as everywhere in the API.
            data["definition"] = {
                **definition,
                "max_credits_per_run": _credits_or_none(
                    definition["max_credits_per_run"]
                ),
            }
        return data


class RunRequestSerializer(serializers.Serializer):
    input = serializers.CharField(
        trim_whitespace=False, help_text="What the agent should work on."
    )
    version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Pin a version number."
    )
    conversation_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Continue this conversation (its earlier turns are the context); "
        "without it the run starts a new one.",
    )
    max_credits = serializers.DecimalField(
        required=False,
        allow_null=True,
        max_digits=12,
        decimal_places=3,
        help_text="The most this run may spend (its budget); default "
        "CREDITS_RUN_BUDGET. The run stops, failed and out of credits, when it "
        "has spent it.",
    )


RunSchema = inline_serializer(
    "Run",
    {
        "id": serializers.IntegerField(),
        "agent": serializers.IntegerField(
            allow_null=True, help_text="null for a workflow's run."
        ),
        "workflow": serializers.JSONField(
            allow_null=True,
            help_text="A workflow's run: {id, name, paused_reason (approval, "
            "out_of_credits or empty), waiting: the approvals it waits for "
            "[{key, node, label, message, step}]}; null for an agent's run.",
        ),
        "conversation": serializers.IntegerField(allow_null=True),
        "version": serializers.IntegerField(),
        "owner": serializers.CharField(),
        "status": serializers.ChoiceField(choices=RunStatus.choices),
        "input": serializers.CharField(),
        "final_output": serializers.JSONField(),
        "error": serializers.CharField(),
        "error_code": serializers.CharField(
            help_text="Why the run failed, for programs: `guardrail_blocked` "
            "when an input or output guardrail stopped it (its `guardrail` step "
            "says which rule and why), otherwise the kind of its `error` step "
            "(`timeout`, `max_turns`, `out_of_credits`, `provider`...); empty "
            "when it did not fail or the reason has no code."
        ),
        "usage": serializers.JSONField(),
        "latency_ms": serializers.IntegerField(allow_null=True),
        "created_at": serializers.DateTimeField(),
        "started_at": serializers.DateTimeField(allow_null=True),
        "finished_at": serializers.DateTimeField(allow_null=True),
        "share_url": serializers.URLField(
            allow_null=True,
            help_text="The read-only copy anyone with the link sees; null when "
            "the run is not shared.",
        ),
        "steps": serializers.ListField(child=serializers.JSONField(), required=False),
    },
)


def _share_url(request, run) -> str | None:
    if not run.share_token:
        return None
    return request.build_absolute_uri(
        reverse("agents:shared-run", args=[run.share_token])
    )


def run_data(request, run, *, steps=None) -> dict:
    """A run as the API answers it: the websocket's shape and its share link."""
    return {**run_to_dict(run, steps=steps), "share_url": _share_url(request, run)}


def _object_body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError({"non_field_errors": ["Send a JSON object."]})
    return request.data


def _found(thing):
    """``thing``, or the API's 404 when a selector found nothing to show."""
    if thing is None:
        raise NotFound()
    return thing


def _visible_agent(request, agent_id) -> Agent:
    return _found(selectors.agent_get_visible(user=request.user, agent_id=agent_id))


def _editable_agent(request, agent_id) -> Agent:
    agent = _visible_agent(request, agent_id)
    if not selectors.agent_can_edit(user=request.user, agent=agent):
        raise PermissionDenied("Only the agent's owner can change it.")
    return agent


class AgentListView(GenericAPIView):
    """Your agents. POST creates one (private unless you say otherwise)."""

    serializer_class = AgentSerializer

    def get_queryset(self):
        return selectors.agent_list_owned(user=self.request.user).select_related(
            "owner", "forked_from__owner"
        )

    @extend_schema(operation_id="agents_list", responses=AgentSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=AgentWriteSerializer, responses={201: AgentSerializer})
    def post(self, request):
        body = AgentWriteSerializer(data=_object_body(request), partial=True)
        body.is_valid(raise_exception=True)
        try:
            agent = services.agent_create(
                owner=request.user, data=dict(body.validated_data)
            )
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(AgentSerializer(agent).data, status=status.HTTP_201_CREATED)


# What PUT resets a field to when the body leaves it out.
PUT_DEFAULTS = {
    "description": "",
    "instructions": "",
    "model": "local/demo",
    "model_settings": {},
    "tools": [],
    "tool_options": {},
    "guardrails": {},
    "output_type": None,
    "max_credits_per_run": None,
    "tags": [],
    "visibility": Visibility.PRIVATE,
    "category": "",
    "long_description": "",
    "example_prompts": [],
}


class AgentDetailView(APIView):
    """One agent. Anyone who can see it can read it; only its owner changes it."""

    @extend_schema(responses=AgentSerializer)
    def get(self, request, agent_id: int):
        return Response(AgentSerializer(_visible_agent(request, agent_id)).data)

    @extend_schema(request=AgentWriteSerializer, responses=AgentSerializer)
    def put(self, request, agent_id: int):
        return self._update(request, agent_id, partial=False)

    @extend_schema(request=AgentWriteSerializer, responses=AgentSerializer)
    def patch(self, request, agent_id: int):
        return self._update(request, agent_id, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request, agent_id: int):
        services.agent_delete(agent=_editable_agent(request, agent_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request, agent_id, *, partial: bool):
        agent = _editable_agent(request, agent_id)
        body = AgentWriteSerializer(data=_object_body(request), partial=True)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if not partial:
            data = {"name": "", **PUT_DEFAULTS, **data}
        try:
            agent = services.agent_update(agent=agent, user=request.user, data=data)
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(AgentSerializer(agent).data)


class YamlTextParser(BaseParser):
    """A raw YAML body (an exported agent file), handed over as text."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read().decode("utf-8", errors="replace")


class TextYamlParser(YamlTextParser):
    media_type = "text/yaml"


class AgentExportView(APIView):
    """The agent as one YAML file, which POST /api/v1/agents/import/ accepts."""

    # The YAML document is a mapping, which clients parse as an object.
    @extend_schema(responses={(200, "application/yaml"): OpenApiTypes.OBJECT})
    def get(self, request, agent_id: int):
        from agents import portability

        agent = _visible_agent(request, agent_id)
        response = HttpResponse(
            portability.dump(portability.agent_document(agent, user=request.user)),
            content_type="application/yaml; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{agent.slug}.agent.yaml"'
        )
        return response


class AgentExportPythonView(APIView):
    """The agent as a runnable Python script on the OpenAI Agents SDK alone."""

    @extend_schema(responses={(200, "text/x-python"): str})
    def get(self, request, agent_id: int):
        from agents.export_python import python_script

        agent = _visible_agent(request, agent_id)
        response = HttpResponse(
            python_script(agent), content_type="text/x-python; charset=utf-8"
        )
        filename = agent.slug.replace("-", "_")
        response["Content-Disposition"] = f'attachment; filename="{filename}.py"'
        return response


class AgentImportView(APIView):
    """Create a private agent from an exported file.

    Send the YAML as the body (`Content-Type: application/yaml`), as a
    multipart upload named `file`, or as JSON `{"yaml": "..."}`.
    """

    parser_classes = [
        YamlTextParser,
        TextYamlParser,
        JSONParser,
        MultiPartParser,
        FormParser,
    ]

    @extend_schema(
        request={"application/yaml": str},
        responses={201: AgentSerializer},
    )
    def post(self, request):
        data = request.data
        if isinstance(data, str):
            text = data
        elif "file" in request.FILES:
            text = request.FILES["file"].read().decode("utf-8", errors="replace")
        elif isinstance(data, dict):
            text = data.get("yaml")
        else:
            text = None
        try:
            agent = services.agent_import(owner=request.user, text=text)
        except DjangoValidationError as error:
            raise_as_drf(error)
        data = AgentSerializer(agent).data
        # What the import did beyond the agent (e.g. webhook tools created).
        data["import_notes"] = list(getattr(agent, "import_notes", []))
        return Response(data, status=status.HTTP_201_CREATED)


class AgentVersionListView(GenericAPIView):
    """An agent's versions, newest first. Each is an immutable definition."""

    serializer_class = VersionSerializer

    @extend_schema(
        operation_id="agents_versions_list", responses=VersionSerializer(many=True)
    )
    def get(self, request, agent_id: int):
        agent = _visible_agent(request, agent_id)
        versions = selectors.version_list(agent=agent).select_related("created_by")
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class AgentVersionDetailView(APIView):
    @extend_schema(responses=VersionSerializer)
    def get(self, request, agent_id: int, number: int):
        agent = _visible_agent(request, agent_id)
        version = _found(selectors.version_get(agent=agent, number=number))
        return Response(VersionSerializer(version).data)


def _conversation_to_continue(request, conversation_id):
    """The conversation a run should continue (None for a new one); 400 if
    ``conversation_id`` is not one the requester may see."""
    if conversation_id is None:
        return None
    conversation = selectors.conversation_get_visible(
        user=request.user, conversation_id=conversation_id
    )
    if conversation is None:
        raise ValidationError(
            {"conversation_id": ["You have no conversation with this id."]}
        )
    return conversation


class EstimateRequestSerializer(serializers.Serializer):
    input = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, default=""
    )
    version = serializers.IntegerField(required=False, min_value=1)


class AgentEstimateView(CreditsOnMixin, APIView):
    """What a run would probably cost in credits, and whether your balance
    covers it (404 when credits are off). An estimate: the model's turns
    (one, more with tools), at what the model takes in and writes, and each
    priced tool called once."""

    @extend_schema(
        request=EstimateRequestSerializer,
        responses=inline_serializer(
            "RunEstimate",
            {
                "credits": serializers.FloatField(),
                "balance": serializers.FloatField(),
                "enough": serializers.BooleanField(),
                "turns": serializers.IntegerField(),
                "input_tokens": serializers.IntegerField(),
                "output_tokens": serializers.IntegerField(),
            },
        ),
    )
    def post(self, request, agent_id: int):
        from billing import selectors as billing_selectors
        from billing.pricing import as_credits as credits

        agent = _visible_agent(request, agent_id)
        body = EstimateRequestSerializer(data=_object_body(request))
        body.is_valid(raise_exception=True)
        number = body.validated_data.get("version")
        version = (
            selectors.version_get(agent=agent, number=number)
            if number
            else selectors.version_latest(agent=agent)
        )
        if version is None:
            raise ValidationError({"version": ["This agent has no such version."]})
        estimate = services.run_cost_estimate(
            agent=agent,
            definition=version.definition,
            input=body.validated_data["input"],
        )
        account = billing_selectors.account_for(user=request.user)
        balance = account.balance if account else 0
        return Response(
            {
                "credits": credits(estimate["milli"]),
                "balance": credits(balance),
                "enough": balance >= estimate["milli"],
                "turns": estimate["turns"],
                "input_tokens": estimate["input_tokens"],
                "output_tokens": estimate["output_tokens"],
            }
        )


class AgentRunView(APIView):
    """Start a run; it is queued and carried out by a worker (202)."""

    @extend_schema(request=RunRequestSerializer, responses={202: RunSchema})
    def post(self, request, agent_id: int):
        agent = _visible_agent(request, agent_id)
        body = RunRequestSerializer(data=_object_body(request))
        body.is_valid(raise_exception=True)
        conversation = _conversation_to_continue(
            request, body.validated_data.get("conversation_id")
        )
        try:
            run = services.run_start(
                agent=agent,
                user=request.user,
                input=body.validated_data["input"],
                version=body.validated_data.get("version"),
                conversation=conversation,
                max_credits=body.validated_data.get("max_credits"),
            )
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(run_data(request, run), status=status.HTTP_202_ACCEPTED)


class PlaygroundRunSerializer(serializers.Serializer):
    instructions = serializers.CharField(
        required=False, allow_blank=True, max_length=20000
    )
    model = serializers.CharField(
        required=False, max_length=150, help_text="Default: local/demo."
    )
    tools = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False
    )
    model_settings = serializers.JSONField(required=False)
    input = serializers.CharField(trim_whitespace=False, help_text="Your message.")
    conversation_id = serializers.IntegerField(
        required=False, help_text="Continue this playground conversation."
    )


class PlaygroundRunView(APIView):
    """Chat with a model directly: instructions, model and tools picked per
    request, nothing saved but the run (202). Continue with `conversation_id`."""

    @extend_schema(request=PlaygroundRunSerializer, responses={202: RunSchema})
    def post(self, request):
        body = PlaygroundRunSerializer(data=_object_body(request))
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        text = data.pop("input")
        conversation = _conversation_to_continue(
            request, data.pop("conversation_id", None)
        )
        try:
            run = services.playground_run(
                user=request.user, data=data, input=text, conversation=conversation
            )
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(run_data(request, run), status=status.HTTP_202_ACCEPTED)


class PlaygroundSaveView(APIView):
    """Keep the playground's current settings as a new private agent (201)."""

    @extend_schema(
        request=inline_serializer(
            "PlaygroundSave", {"name": serializers.CharField(max_length=100)}
        ),
        responses={201: AgentSerializer},
    )
    def post(self, request):
        body = _object_body(request)
        try:
            agent = services.playground_save(user=request.user, name=body.get("name"))
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(AgentSerializer(agent).data, status=status.HTTP_201_CREATED)


class RunFilterSerializer(serializers.Serializer):
    agent = serializers.IntegerField(required=False, min_value=1)
    workflow = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=RunStatus.choices, required=False)
    q = serializers.CharField(
        required=False, max_length=200, help_text="Text the input contains."
    )
    since = serializers.DateField(required=False, help_text="Created on or after.")
    until = serializers.DateField(required=False, help_text="Created on or before.")


class RunListView(GenericAPIView):
    """Your runs, newest first; filter by agent or workflow, status, input
    text and dates."""

    @extend_schema(
        operation_id="runs_list",
        parameters=[RunFilterSerializer],
        responses=inline_serializer(
            "RunPage", {"results": serializers.ListField(child=RunSchema)}
        ),
    )
    def get(self, request):
        filters = RunFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        runs = selectors.run_list_mine(
            user=request.user,
            agent_id=data.get("agent"),
            workflow_id=data.get("workflow"),
            status=data.get("status"),
            search=data.get("q", ""),
            since=data.get("since"),
            until=data.get("until"),
        ).select_related("owner")
        page = self.paginate_queryset(runs)
        return self.get_paginated_response([run_data(request, run) for run in page])


def _visible_run(request, run_id):
    return _found(selectors.run_get_visible(user=request.user, run_id=run_id))


class RunDetailView(APIView):
    """A run with every step saved so far."""

    @extend_schema(responses=RunSchema)
    def get(self, request, run_id: int):
        run = _visible_run(request, run_id)
        steps = list(selectors.step_list(run=run))
        return Response(run_data(request, run, steps=steps))

    @extend_schema(responses={204: None})
    def delete(self, request, run_id: int):
        services.run_delete(run=_visible_run(request, run_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RunCancelView(APIView):
    @extend_schema(request=None, responses=RunSchema)
    def post(self, request, run_id: int):
        run = _visible_run(request, run_id)
        try:
            run = services.run_cancel(run=run)
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(run_data(request, run))


RunShareSchema = inline_serializer(
    "RunShare",
    {"share_url": serializers.URLField(), "shared_at": serializers.DateTimeField()},
)


class RunShareView(APIView):
    """Share a finished run you started: anyone with `share_url` sees a
    read-only copy, signed in or not (its input, steps, output and cost; not
    the agent's instructions or anyone's secrets). Sharing again keeps the
    link. DELETE stops sharing: the link stops working."""

    @extend_schema(request=None, responses=RunShareSchema)
    def post(self, request, run_id: int):
        run = _visible_run(request, run_id)
        try:
            run = sharing.run_share(run=run, user=request.user)
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(
            {
                "share_url": _share_url(request, run),
                "shared_at": serializers.DateTimeField().to_representation(
                    run.shared_at
                ),
            }
        )

    @extend_schema(responses={204: None})
    def delete(self, request, run_id: int):
        sharing.run_unshare(run=_visible_run(request, run_id), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LanguageModelSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="identifier", read_only=True)

    class Meta:
        model = LanguageModel
        fields = [
            "id",
            "provider",
            "name",
            "display_name",
            "description",
            "supports_tools",
            "supports_structured_output",
            "supports_streaming",
            "input_price_per_1k",
            "output_price_per_1k",
        ]
        read_only_fields = fields


def _with_availability(models_data: list[dict], availability: dict) -> list[dict]:
    for model in models_data:
        state = availability.get(model["provider"])
        model["available"] = bool(state and state["available"])
        model["unavailable_reason"] = (
            state["reason"] if state else "This site does not know the provider."
        )
    return models_data


class LanguageModelListView(GenericAPIView):
    """The model catalog, then the models the site's own servers (Ollama, an
    OpenAI-compatible server, Azure OpenAI deployments) and your endpoint list:
    what an agent's `model` may be, and whether your runs can use each one now
    (`available`, else `unavailable_reason`)."""

    serializer_class = LanguageModelSerializer

    @extend_schema(
        operation_id="models_list", responses=LanguageModelSerializer(many=True)
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.model_choices(user=request.user))
        data = self.get_serializer(page, many=True).data
        availability = selectors.provider_availability(user=request.user)
        return self.get_paginated_response(_with_availability(data, availability))


ProviderSchema = inline_serializer(
    "Provider",
    {
        "id": serializers.CharField(),
        "name": serializers.CharField(),
        "description": serializers.CharField(),
        "needs_key": serializers.BooleanField(),
        "api": serializers.CharField(
            help_text="in-process, responses, chat_completions or litellm"
        ),
        "available": serializers.BooleanField(),
        "key": serializers.CharField(allow_null=True, help_text="yours, site or null"),
        "reason": serializers.CharField(),
    },
)


def _provider_state(request, provider_id: str) -> dict:
    return _found(selectors.provider_availability(user=request.user).get(provider_id))


class ProviderListView(APIView):
    """Model providers, and whether your runs can use each (your key or the site's)."""

    @extend_schema(
        operation_id="providers_list",
        responses=inline_serializer(
            "ProviderList",
            {
                "count": serializers.IntegerField(),
                "results": serializers.ListField(child=ProviderSchema),
            },
        ),
    )
    def get(self, request):
        providers = list(selectors.provider_availability(user=request.user).values())
        return Response({"count": len(providers), "results": providers})


def _provider_models(request, provider_id: str) -> list:
    # The catalog's, then those the site's servers and your own endpoint list.
    return [
        model
        for model in selectors.model_choices(user=request.user)
        if model.provider == provider_id
    ]


class ProviderModelListView(APIView):
    """One provider's models in the catalog, with their availability to you."""

    @extend_schema(
        operation_id="provider_models_list",
        responses=inline_serializer(
            "ProviderModelList",
            {
                "count": serializers.IntegerField(),
                "results": LanguageModelSerializer(many=True),
            },
        ),
    )
    def get(self, request, provider_id: str):
        state = _provider_state(request, provider_id)
        models = _provider_models(request, provider_id)
        data = LanguageModelSerializer(models, many=True).data
        data = _with_availability(data, {provider_id: state})
        return Response({"count": len(data), "results": data})


class ProviderCapabilitiesView(APIView):
    """What a provider's models can do: each capability and the models with it."""

    @extend_schema(
        responses=inline_serializer(
            "ProviderCapabilities",
            {
                "provider": serializers.CharField(),
                "tools": serializers.ListField(child=serializers.CharField()),
                "structured_output": serializers.ListField(
                    child=serializers.CharField()
                ),
                "streaming": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request, provider_id: str):
        _provider_state(request, provider_id)
        models = _provider_models(request, provider_id)
        return Response(
            {
                "provider": provider_id,
                "tools": [m.identifier for m in models if m.supports_tools],
                "structured_output": [
                    m.identifier for m in models if m.supports_structured_output
                ],
                "streaming": [m.identifier for m in models if m.supports_streaming],
            }
        )


def custom_tool_to_dict(tool: CustomTool) -> dict:
    from config import crypto

    secret = None
    if tool.secret_header_name:
        try:
            masked = crypto.mask(crypto.decrypt(tool.secret_header_value))
        except crypto.DecryptionError:
            masked = "(unreadable: enter it again)"
        secret = {"name": tool.secret_header_name, "masked": masked}
    return {
        "kind": "custom",
        "id": tool.pk,
        "reference": tool.reference,
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
        "webhook_url": tool.webhook_url,
        "secret_header": secret,
        "created_at": tool.created_at,
        "updated_at": tool.updated_at,
    }


CustomToolWrite = inline_serializer(
    "CustomToolWrite",
    {
        "name": serializers.CharField(),
        "description": serializers.CharField(),
        "parameters": serializers.JSONField(help_text="A JSON schema (an object)."),
        "webhook_url": serializers.URLField(),
        "secret_header": serializers.JSONField(
            required=False,
            help_text='{"name": "Authorization", "value": "Bearer ..."}; the value '
            "is stored encrypted and never returned.",
        ),
    },
)


class ToolListView(APIView):
    """Tools an agent can use: the built-ins (each JSON schema exactly as sent
    to the model) and your own webhook tools. POST creates a webhook tool; list
    it in an agent's tools as its `reference` (`custom/<id>`)."""

    @extend_schema(
        operation_id="tools_list",
        responses=inline_serializer(
            "ToolList",
            {
                "count": serializers.IntegerField(),
                "results": serializers.ListField(child=serializers.JSONField()),
            },
        ),
    )
    def get(self, request):
        from agents.tools import all_tools

        tools = []
        disabled = selectors.disabled_tool_names()
        for tool in all_tools():
            sdk_tool = tool.as_sdk_tool()
            tools.append(
                {
                    "kind": "builtin",
                    "enabled": tool.name not in disabled,
                    "reference": sdk_tool.name,
                    "name": sdk_tool.name,
                    "description": sdk_tool.description,
                    "parameters": sdk_tool.params_json_schema,
                }
            )
        tools.extend(
            custom_tool_to_dict(tool)
            for tool in selectors.custom_tool_list(user=request.user)
        )
        return Response({"count": len(tools), "results": tools})

    @extend_schema(request=CustomToolWrite, responses={201: CustomToolWrite})
    def post(self, request):
        try:
            tool = services.custom_tool_save(
                owner=request.user, data=dict(_object_body(request))
            )
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(custom_tool_to_dict(tool), status=status.HTTP_201_CREATED)


def _own_custom_tool(request, tool_id) -> CustomTool:
    return _found(selectors.custom_tool_get(user=request.user, tool_id=tool_id))


class CustomToolDetailView(APIView):
    """One of your webhook tools. PUT/PATCH change it; DELETE removes it."""

    @extend_schema(responses=CustomToolWrite)
    def get(self, request, tool_id: int):
        return Response(custom_tool_to_dict(_own_custom_tool(request, tool_id)))

    @extend_schema(request=CustomToolWrite, responses=CustomToolWrite)
    def put(self, request, tool_id: int):
        return self._save(request, tool_id)

    @extend_schema(request=CustomToolWrite, responses=CustomToolWrite)
    def patch(self, request, tool_id: int):
        return self._save(request, tool_id)

    @extend_schema(responses={204: None})
    def delete(self, request, tool_id: int):
        services.custom_tool_delete(tool=_own_custom_tool(request, tool_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _save(self, request, tool_id):
        tool = _own_custom_tool(request, tool_id)
        try:
            tool = services.custom_tool_save(
                owner=request.user, data=dict(_object_body(request)), tool=tool
            )
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(custom_tool_to_dict(tool))


AgentToolsResult = inline_serializer(
    "AgentToolsResult",
    {
        "tools": serializers.ListField(child=serializers.CharField()),
        "version": serializers.IntegerField(),
    },
)


class AgentToolsView(APIView):
    """The tools an agent lists (built-in names and `custom/<id>`). POST adds
    one (`{"tool": ...}`), PUT replaces the list (`{"tools": [...]}`), DELETE
    removes one (`?tool=...`); each change is a new version."""

    @extend_schema(
        responses=inline_serializer(
            "AgentTools",
            {"tools": serializers.ListField(child=serializers.CharField())},
        )
    )
    def get(self, request, agent_id: int):
        agent = _visible_agent(request, agent_id)
        return Response({"tools": agent.tools})

    @extend_schema(
        request=inline_serializer("AgentToolAdd", {"tool": serializers.CharField()}),
        responses=AgentToolsResult,
    )
    def post(self, request, agent_id: int):
        agent = _editable_agent(request, agent_id)
        tool = _object_body(request).get("tool")
        if not isinstance(tool, str) or not tool:
            raise ValidationError({"tool": ["Name the tool to add."]})
        return self._set(request, agent, [*agent.tools, tool])

    @extend_schema(
        request=inline_serializer(
            "AgentToolsSet",
            {"tools": serializers.ListField(child=serializers.CharField())},
        ),
        responses=AgentToolsResult,
    )
    def put(self, request, agent_id: int):
        agent = _editable_agent(request, agent_id)
        return self._set(request, agent, _object_body(request).get("tools"))

    @extend_schema(
        parameters=[OpenApiParameter("tool", str, required=True)],
        responses=AgentToolsResult,
    )
    def delete(self, request, agent_id: int):
        agent = _editable_agent(request, agent_id)
        tool = request.query_params.get("tool", "")
        if tool not in agent.tools:
            raise ValidationError({"tool": [f"The agent does not list {tool!r}."]})
        return self._set(request, agent, [t for t in agent.tools if t != tool])

    def _set(self, request, agent, tools):
        try:
            agent = services.agent_update(
                agent=agent, user=request.user, data={"tools": tools}
            )
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response({"tools": agent.tools, "version": agent.version_number})


class ProviderKeySerializer(serializers.ModelSerializer):
    key = serializers.CharField(
        write_only=True,
        required=False,
        help_text=(
            "The provider's API key. Never returned. May be empty only for an "
            "OpenAI-compatible endpoint that takes none."
        ),
    )
    masked = serializers.CharField(read_only=True, help_text="e.g. sk-…abcd")
    base_url = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=(
            "For provider `compatible`: the endpoint's base URL, e.g. "
            "https://api.groq.com/openai/v1; for `azure`: the resource's endpoint, "
            "e.g. https://my-resource.openai.azure.com. It must lead to a public "
            "address."
        ),
    )
    deployments = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        write_only=True,
        help_text="Only for provider `azure`: the deployment names to offer.",
    )
    model_names = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=(
            "For `compatible`: the models the endpoint listed at the last test; "
            "for `azure`: the deployments given."
        ),
    )

    class Meta:
        model = ProviderKey
        fields = [
            "id",
            "provider",
            "key",
            "masked",
            "base_url",
            "deployments",
            "model_names",
            "created_at",
            "tested_at",
            "test_ok",
            "test_message",
        ]
        read_only_fields = [
            "id",
            "masked",
            "model_names",
            "created_at",
            "tested_at",
            "test_ok",
            "test_message",
        ]


class ProviderKeyListView(GenericAPIView):
    """Your own model-provider keys, encrypted at rest and shown masked.

    POST saves a key (replacing your key for that provider); your runs then use
    it instead of the site's.
    """

    serializer_class = ProviderKeySerializer

    @extend_schema(
        operation_id="provider_keys_list",
        responses=ProviderKeySerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.provider_key_list(user=request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses={201: ProviderKeySerializer})
    def post(self, request):
        body = _object_body(request)
        try:
            provider_key = services.provider_key_save(
                owner=request.user,
                provider=body.get("provider"),
                key=body.get("key"),
                base_url=body.get("base_url") or "",
                deployments=body.get("deployments") or (),
            )
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(
            ProviderKeySerializer(provider_key).data, status=status.HTTP_201_CREATED
        )


def _own_provider_key(request, key_id):
    return _found(selectors.provider_key_get(user=request.user, key_id=key_id))


class ProviderKeyDetailView(APIView):
    @extend_schema(responses=ProviderKeySerializer)
    def get(self, request, key_id: int):
        return Response(ProviderKeySerializer(_own_provider_key(request, key_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, key_id: int):
        services.provider_key_delete(provider_key=_own_provider_key(request, key_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProviderKeyTestView(APIView):
    """Make one cheap call with the key (list models) and report the result."""

    @extend_schema(request=None, responses=ProviderKeySerializer)
    def post(self, request, key_id: int):
        provider_key = services.provider_key_test(
            provider_key=_own_provider_key(request, key_id)
        )
        return Response(ProviderKeySerializer(provider_key).data)


class ConversationSerializer(serializers.ModelSerializer):
    turns = serializers.IntegerField(source="turn_count", read_only=True)

    class Meta:
        model = Conversation
        fields = ["id", "agent", "title", "turns", "created_at", "updated_at"]
        read_only_fields = ["id", "agent", "turns", "created_at", "updated_at"]


class ConversationListView(GenericAPIView):
    """Your conversations, most recent first; ?agent=<id> filters."""

    serializer_class = ConversationSerializer

    @extend_schema(
        operation_id="conversations_list",
        parameters=[OpenApiParameter("agent", int)],
        responses=ConversationSerializer(many=True),
    )
    def get(self, request):
        agent_id = request.query_params.get("agent") or None
        if agent_id is not None and not agent_id.isdigit():
            raise ValidationError({"agent": ["Give an agent id (a number)."]})
        conversations = selectors.conversation_list_mine(
            user=request.user, agent_id=agent_id
        )
        page = self.paginate_queryset(conversations)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def _visible_conversation(request, conversation_id):
    return _found(
        selectors.conversation_get_visible(
            user=request.user, conversation_id=conversation_id
        )
    )


def _conversation_data(request, conversation) -> dict:
    turns = list(selectors.conversation_turns(conversation=conversation))
    conversation.turn_count = len(turns)
    data = ConversationSerializer(conversation).data
    data["runs"] = [run_data(request, run) for run in turns]
    return data


class ConversationDetailView(APIView):
    """A conversation with its runs in order. PATCH renames; DELETE removes it
    with its runs."""

    @extend_schema(responses=ConversationSerializer)
    def get(self, request, conversation_id: int):
        conversation = _visible_conversation(request, conversation_id)
        return Response(_conversation_data(request, conversation))

    @extend_schema(request=ConversationSerializer, responses=ConversationSerializer)
    def patch(self, request, conversation_id: int):
        conversation = _visible_conversation(request, conversation_id)
        if conversation.owner_id != request.user.pk:
            raise PermissionDenied("Only the person who started it can rename it.")
        try:
            services.conversation_rename(
                conversation=conversation, title=_object_body(request).get("title")
            )
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(_conversation_data(request, conversation))

    @extend_schema(responses={204: None})
    def delete(self, request, conversation_id: int):
        conversation = _visible_conversation(request, conversation_id)
        if conversation.owner_id != request.user.pk:
            raise PermissionDenied("Only the person who started it can delete it.")
        services.conversation_delete(conversation=conversation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommunityFilterSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)
    tag = serializers.CharField(required=False, allow_blank=True, max_length=40)
    category = serializers.ChoiceField(
        choices=["", *Category.values], required=False, allow_blank=True
    )
    sort = serializers.ChoiceField(
        choices=["", *selectors.DISCOVER_SORTS, *selectors.DISCOVER_SORT_ALIASES],
        required=False,
        allow_blank=True,
        help_text="trending (default), top (rated), runs, new (or newest); with "
        "`q` and no sort, the best matches first.",
    )


# Where agent_payload_keys' rows hold the model and where the key ends.
MODEL_COLUMN = selectors.AGENT_PAYLOAD_KEY_FIELDS.index("model")
KEY_COLUMNS = len(selectors.AGENT_PAYLOAD_KEY_FIELDS)


class CommunityAgentListView(GenericAPIView):
    """Published agents, for anyone: full-text search (`q`: name, tags,
    descriptions), filter by `tag` and `category`, `sort`."""

    permission_classes = [AllowAny]
    serializer_class = AgentSerializer
    pagination_class = CountedRowsPagination

    @extend_schema(
        operation_id="community_agents_list",
        parameters=[CommunityFilterSerializer],
        responses=AgentSerializer(many=True),
    )
    def get(self, request):
        filters = CommunityFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        # Sorted and paged over the few columns the payloads' keys need (with
        # the list's length in the same query), then only the payloads not
        # kept yet are built: sorting every published agent's whole row took
        # PostgreSQL ~10 ms for 1,000 agents, and building 20 payloads from
        # rows most of the request's CPU.
        rows = self.paginate_queryset(
            selectors.agent_payload_keys(**filters.validated_data)
        )
        return self.get_paginated_response(self._payloads(rows))

    def _payloads(self, rows: list[tuple]) -> list[dict]:
        """Each row's agent payload, from the fragment cache (one round trip
        for the page) or built and kept, with the row's counters. A payload
        shows nothing about the viewer, so one serves everyone; its key holds
        every column that can change it without its updated_at moving, and
        the model's display name (the catalog's, read at most once a
        minute)."""
        labels = selectors.model_labels_recent()

        def key(values: tuple) -> str:
            model = values[MODEL_COLUMN]
            return fragment_key("api-agent", values, labels.get(model, model))

        keys = {row[0]: key(row[:KEY_COLUMNS]) for row in rows}
        cache = fragment_cache()
        found = cache.get_many(list(keys.values()))
        fresh = {}
        if len(found) < len(keys):
            missing = [pk for pk, kept in keys.items() if kept not in found]
            agents = list(selectors.agent_list_published().filter(pk__in=missing))
            serializer = self.get_serializer(
                agents,
                many=True,
                context={**self.get_serializer_context(), "model_labels": labels},
            )
            fresh = {payload["id"]: payload for payload in serializer.data}
            # Kept under the key of the row each was built from: one changed
            # since the page's keys were read must not be kept under its
            # older state's key (that state may come back: a name changed
            # and changed back).
            cache.set_many(
                {
                    key(selectors.agent_payload_key_values(agent)): fresh[agent.pk]
                    for agent in agents
                }
            )
        payloads = []
        for row in rows:
            pk = row[0]
            payload = found.get(keys[pk]) or fresh.get(pk)
            if payload is None:
                continue  # unpublished between the two queries
            rating_count, rating_sum, fork_count, run_count = row[KEY_COLUMNS:-1]
            average = rating_average_of(rating_sum, rating_count)
            # Existing keys: the payload's field order stays.
            payload["rating_average"] = None if average is None else float(average)
            payload["rating_count"] = rating_count
            payload["fork_count"] = fork_count
            payload["run_count"] = run_count
            payloads.append(payload)
        return payloads


class AgentCloneView(APIView):
    """Fork a shared agent: a private copy of its current version, yours,
    that remembers its origin. `notes` says what could not come along
    (another person's webhook tools, models only they can use)."""

    @extend_schema(
        operation_id="agents_clone",
        request=None,
        responses={
            201: inline_serializer(
                "Fork",
                {
                    "agent": AgentSerializer(),
                    "notes": serializers.ListField(child=serializers.CharField()),
                },
            )
        },
    )
    def post(self, request, agent_id: int):
        agent = _visible_agent(request, agent_id)
        try:
            fork, notes = services.agent_fork(agent=agent, user=request.user)
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(
            {"agent": AgentSerializer(fork).data, "notes": notes},
            status=status.HTTP_201_CREATED,
        )
