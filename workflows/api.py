"""Handoffs and workflows over the API. An agent's handoffs (the agents it
may hand the conversation to) and a workflow are their owner's alone."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.models import Handoff, InputFilter
from agents.selectors import agent_list_owned
from agents.selectors import handoffs as handoff_selectors
from agents.services import handoffs as handoff_services
from config.api import FormParser, JSONParser, call_service
from workflows import selectors, services
from workflows.models import Workflow


class HandoffSerializer(serializers.ModelSerializer):
    target = serializers.IntegerField(source="target_id", read_only=True)
    target_name = serializers.CharField(source="target.name", read_only=True)
    target_owner = serializers.CharField(source="target.owner.username", read_only=True)

    class Meta:
        model = Handoff
        fields = [
            "id",
            "target",
            "target_name",
            "target_owner",
            "description",
            "input_filter",
            "position",
            "created_at",
        ]
        read_only_fields = fields


class HandoffCreateSerializer(serializers.Serializer):
    target = serializers.IntegerField(
        min_value=1, help_text="the agent to hand off to: yours, or a shared one"
    )
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=services.MAX_DESCRIPTION,
        help_text="when the model should hand off (default: the target's description)",
    )
    input_filter = serializers.ChoiceField(
        choices=InputFilter.choices, required=False, allow_blank=True
    )


class HandoffUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=services.MAX_DESCRIPTION
    )
    input_filter = serializers.ChoiceField(
        choices=InputFilter.choices, required=False, allow_blank=True
    )


def _own_agent(request, agent_id):
    """Only the owner manages this; anyone else gets 404."""
    return get_object_or_404(agent_list_owned(user=request.user), pk=agent_id)


class HandoffListView(APIView):
    """The agents this agent may hand the conversation to, in order. POST adds
    one: `target` (an agent id), optional `description` and `input_filter`
    (`""`: the whole conversation, `remove_tools`: without earlier tool
    calls)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(responses=HandoffSerializer(many=True))
    def get(self, request, agent_id: int):
        agent = _own_agent(request, agent_id)
        handoffs = handoff_selectors.handoff_list(agent=agent)
        return Response(HandoffSerializer(handoffs, many=True).data)

    @extend_schema(request=HandoffCreateSerializer, responses={201: HandoffSerializer})
    def post(self, request, agent_id: int):
        agent = _own_agent(request, agent_id)
        body = HandoffCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        handoff = call_service(
            handoff_services.handoff_create,
            agent=agent,
            user=request.user,
            target_id=data["target"],
            description=data.get("description", ""),
            input_filter=data.get("input_filter", ""),
        )
        return Response(HandoffSerializer(handoff).data, status=status.HTTP_201_CREATED)


class HandoffDetailView(APIView):
    """One handoff: PUT changes its `description` / `input_filter`, DELETE
    removes it."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser]

    def _handoff(self, request, agent_id, handoff_id) -> Handoff:
        handoff = handoff_selectors.handoff_get(
            agent=_own_agent(request, agent_id), handoff_id=handoff_id
        )
        if handoff is None:
            raise NotFound()
        return handoff

    @extend_schema(responses=HandoffSerializer)
    def get(self, request, agent_id: int, handoff_id: int):
        return Response(
            HandoffSerializer(self._handoff(request, agent_id, handoff_id)).data
        )

    @extend_schema(request=HandoffUpdateSerializer, responses=HandoffSerializer)
    def put(self, request, agent_id: int, handoff_id: int):
        handoff = self._handoff(request, agent_id, handoff_id)
        body = HandoffUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        handoff = call_service(
            handoff_services.handoff_update,
            handoff=handoff,
            user=request.user,
            **body.validated_data,
        )
        return Response(HandoffSerializer(handoff).data)

    @extend_schema(responses={204: None})
    def delete(self, request, agent_id: int, handoff_id: int):
        handoff = self._handoff(request, agent_id, handoff_id)
        call_service(
            handoff_services.handoff_delete, handoff=handoff, user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- workflows -------------------------------------------------------------------


class WorkflowSerializer(serializers.ModelSerializer):
    graph = serializers.JSONField(
        help_text='{"entry": node id, "nodes": [{"id", "kind", ...}], "edges": '
        '[{"from", "to"}]}; see docs/api.md "Workflows"'
    )

    owner = serializers.CharField(source="owner.username", read_only=True)
    forked_from = serializers.IntegerField(
        source="forked_from_id", read_only=True, allow_null=True
    )

    class Meta:
        model = Workflow
        fields = [
            "id",
            "owner",
            "name",
            "description",
            "visibility",
            "graph",
            "version_number",
            "forked_from",
            "run_count",
            "fork_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "owner",
            "version_number",
            "forked_from",
            "run_count",
            "fork_count",
            "created_at",
            "updated_at",
        ]


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise serializers.ValidationError(
            {"non_field_errors": ["A JSON object, please."]}
        )
    data = request.data
    # A form's QueryDict: one value per field.
    return data.dict() if hasattr(data, "dict") else dict(data)


GRAPH_EXAMPLE = OpenApiExample(
    "Every node kind",
    request_only=True,
    value={
        "name": "Homework explainer",
        "visibility": "private",
        "graph": {
            "entry": "classify",
            "nodes": [
                {
                    "id": "classify",
                    "kind": "router",
                    "agent": 12,
                    "routes": {"math": "solve", "history": "explain"},
                    "default": "explain",
                    "min_confidence": 0.5,
                },
                {"id": "solve", "kind": "agent", "agent": 13, "retries": 2},
                {"id": "explain", "kind": "agent", "agent": 15},
                {"id": "both", "kind": "parallel", "branches": ["solve", "explain"]},
                {"id": "merge", "kind": "aggregate", "mode": "join"},
                {
                    "id": "draft",
                    "kind": "agent",
                    "agent": 16,
                    "input": "Write for: {{input}}\nNotes: {{previous}}",
                },
                {"id": "review", "kind": "agent", "agent": 17},
                {
                    "id": "polish",
                    "kind": "loop",
                    "worker": "draft",
                    "reviewer": "review",
                    "max_iterations": 3,
                },
                {"id": "ok", "kind": "approval", "message": "Publish this?"},
            ],
            "edges": [
                {"from": "classify", "to": "both"},
                {"from": "both", "to": "merge"},
                {"from": "merge", "to": "polish"},
                {"from": "polish", "to": "ok"},
            ],
        },
    },
)


class WorkflowListView(GenericAPIView):
    """Your workflows, last changed first; POST makes one (`name`, `graph`,
    optional `description` and `visibility`): 400 with field messages and
    nothing saved for a graph with a cycle, a dangling edge, an unknown node
    kind, an agent you cannot use, a router without routes…"""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    serializer_class = WorkflowSerializer

    @extend_schema(
        operation_id="workflows_list", responses=WorkflowSerializer(many=True)
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.workflow_list(owner=request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=WorkflowSerializer,
        responses={201: WorkflowSerializer},
        examples=[GRAPH_EXAMPLE],
    )
    def post(self, request):
        workflow = call_service(
            services.workflow_create, owner=request.user, data=_body(request)
        )
        return Response(
            WorkflowSerializer(workflow).data, status=status.HTTP_201_CREATED
        )


class WorkflowDetailView(APIView):
    """One of your workflows. PUT replaces it (`name` and `graph` required),
    PATCH changes some fields; a changed graph is a new version. DELETE
    removes it."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    def _workflow(self, request, workflow_id):
        workflow = selectors.workflow_get(owner=request.user, workflow_id=workflow_id)
        if workflow is None:
            raise NotFound()
        return workflow

    @extend_schema(responses=WorkflowSerializer)
    def get(self, request, workflow_id: int):
        return Response(WorkflowSerializer(self._workflow(request, workflow_id)).data)

    def _update(self, request, workflow_id, *, partial: bool) -> Response:
        workflow = self._workflow(request, workflow_id)
        data = _body(request)
        if not partial:
            missing = {
                key: [_("This field is required.")]
                for key in ("name", "graph")
                if key not in data
            }
            if missing:
                raise serializers.ValidationError(missing)
        workflow = call_service(
            services.workflow_update, workflow=workflow, user=request.user, data=data
        )
        return Response(WorkflowSerializer(workflow).data)

    @extend_schema(request=WorkflowSerializer, responses=WorkflowSerializer)
    def put(self, request, workflow_id: int):
        return self._update(request, workflow_id, partial=False)

    @extend_schema(request=WorkflowSerializer, responses=WorkflowSerializer)
    def patch(self, request, workflow_id: int):
        return self._update(request, workflow_id, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request, workflow_id: int):
        workflow = self._workflow(request, workflow_id)
        call_service(services.workflow_delete, workflow=workflow, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkflowRunRequestSerializer(serializers.Serializer):
    input = serializers.CharField(
        trim_whitespace=False, help_text="What the workflow should work on."
    )
    max_credits = serializers.DecimalField(
        required=False,
        allow_null=True,
        max_digits=12,
        decimal_places=3,
        help_text="The most the whole workflow may spend, all its nodes "
        "together; default CREDITS_RUN_BUDGET. It pauses, out of credits, when "
        "it has spent it.",
    )


def _run_response(request, run, *, code=status.HTTP_200_OK) -> Response:
    from agents.api import run_data

    return Response(run_data(request, run), status=code)


class WorkflowRunView(APIView):
    """Run a workflow (yours, or a shared one) on `input`: 202 with the run,
    queued. Watch it on `/ws/runs/{id}/` or `GET /api/v1/runs/{id}/`, like an
    agent's run; each step's payload names its `node` and `agent`."""

    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        operation_id="workflows_run",
        request=WorkflowRunRequestSerializer,
        responses={202: OpenApiTypes.OBJECT},
    )
    def post(self, request, workflow_id: int):
        from workflows.runs import workflow_run_start

        workflow = selectors.workflow_get_runnable(
            user=request.user, workflow_id=workflow_id
        )
        if workflow is None:
            raise NotFound()
        body = _body(request)
        run = call_service(
            workflow_run_start,
            workflow=workflow,
            user=request.user,
            input=body.get("input"),
            max_credits=body.get("max_credits"),
        )
        return _run_response(request, run, code=status.HTTP_202_ACCEPTED)


def _own_workflow_run(request, run_id):
    from agents.selectors import run_get_visible

    run = run_get_visible(user=request.user, run_id=run_id)
    if run is None or run.owner_id != request.user.pk:
        raise NotFound()
    return run


class ApprovalRequestSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    key = serializers.CharField(
        required=False,
        help_text="Which approval, when the run waits for several (see the "
        "run's workflow.waiting).",
    )


class RunApprovalView(APIView):
    """Approve or reject what your paused workflow run waits for. Once no
    approval is left it goes on (a rejection fails that node, and with it the
    workflow or, inside a parallel node, only its branch)."""

    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        operation_id="runs_approval",
        request=ApprovalRequestSerializer,
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request, run_id: int):
        from workflows.runs import workflow_run_decide

        run = _own_workflow_run(request, run_id)
        body = _body(request)
        run = call_service(
            workflow_run_decide,
            run=run,
            user=request.user,
            decision=body.get("decision"),
            comment=body.get("comment") or "",
            key=body.get("key"),
        )
        return _run_response(request, run)


class ResumeRequestSerializer(serializers.Serializer):
    max_credits = serializers.DecimalField(
        required=False,
        allow_null=True,
        max_digits=12,
        decimal_places=3,
        help_text="How much more it may spend; default CREDITS_RUN_BUDGET.",
    )


class RunResumeView(APIView):
    """Resume your workflow run that paused out of credits, from where it
    stopped (finished nodes are not run again)."""

    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        operation_id="runs_resume",
        request=ResumeRequestSerializer,
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request, run_id: int):
        from workflows.runs import workflow_run_resume

        run = _own_workflow_run(request, run_id)
        body = _body(request)
        run = call_service(
            workflow_run_resume,
            run=run,
            user=request.user,
            max_credits=body.get("max_credits"),
        )
        return _run_response(request, run)


class WorkflowValidateView(APIView):
    """Check a graph without saving anything: 200 with the graph as it would
    be saved, or 400 with every problem (the builder's Validate button)."""

    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="workflows_validate",
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
    )
    def post(self, request):
        from workflows.graph import clean_graph

        body = _body(request)
        graph = call_service(
            clean_graph,
            value=body.get("graph"),
            agent_usable=services.usable_agents(request.user),
        )
        return Response({"graph": graph})


class WorkflowDiscoverFilter(serializers.Serializer):
    q = serializers.CharField(
        required=False, max_length=200, help_text="Words the name or description has."
    )
    sort = serializers.ChoiceField(
        choices=list(selectors.PUBLIC_SORTS), required=False, default="new"
    )


class WorkflowDiscoverView(GenericAPIView):
    """Public workflows of others: search by words, sort by newest, most run
    or most forked. Anyone may look; running or forking one needs an account."""

    permission_classes = [AllowAny]
    serializer_class = WorkflowSerializer

    @extend_schema(
        operation_id="workflows_discover",
        parameters=[WorkflowDiscoverFilter],
        responses=WorkflowSerializer(many=True),
    )
    def get(self, request):
        filters = WorkflowDiscoverFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        workflows = selectors.workflow_list_public(
            exclude_owner=request.user,
            q=filters.validated_data.get("q", ""),
            sort=filters.validated_data["sort"],
        )
        page = self.paginate_queryset(workflows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class WorkflowForkView(APIView):
    """Fork a shared workflow: a private copy of its graph, yours to change.
    `400` when it uses agents you cannot use."""

    @extend_schema(
        operation_id="workflows_fork", request=None, responses={201: WorkflowSerializer}
    )
    def post(self, request, workflow_id: int):
        workflow = selectors.workflow_get_runnable(
            user=request.user, workflow_id=workflow_id
        )
        if workflow is None:
            raise NotFound()
        fork = call_service(
            services.workflow_fork, workflow=workflow, user=request.user
        )
        return Response(WorkflowSerializer(fork).data, status=status.HTTP_201_CREATED)
