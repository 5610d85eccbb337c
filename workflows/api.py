"""Handoffs over the API: the agents an agent may hand the conversation to.
Only the agent's owner sees and changes them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.selectors import agent_get_owned
from config.api import call_service
from workflows import selectors, services
from workflows.models import Handoff, InputFilter


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
    agent = agent_get_owned(user=request.user, agent_id=agent_id)
    if agent is None:
        raise NotFound()
    return agent


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
        handoffs = selectors.handoff_list(agent=agent)
        return Response(HandoffSerializer(handoffs, many=True).data)

    @extend_schema(request=HandoffCreateSerializer, responses={201: HandoffSerializer})
    def post(self, request, agent_id: int):
        agent = _own_agent(request, agent_id)
        body = HandoffCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        handoff = call_service(
            services.handoff_create,
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
        handoff = selectors.handoff_get(
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
            services.handoff_update,
            handoff=handoff,
            user=request.user,
            **body.validated_data,
        )
        return Response(HandoffSerializer(handoff).data)

    @extend_schema(responses={204: None})
    def delete(self, request, agent_id: int, handoff_id: int):
        handoff = self._handoff(request, agent_id, handoff_id)
        call_service(services.handoff_delete, handoff=handoff, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
