"""Reports over the API: anyone signed in reports an agent, a comment or a
person; staff act on reports in the admin (community.admin)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from community import moderation
from community.models import ModerationAction, Report, ReportReason
from config.api import call_service


class ReportSerializer(serializers.ModelSerializer):
    target_type = serializers.CharField(read_only=True)
    target_id = serializers.SerializerMethodField()
    # Declared for the schema: a read-only field built from the model loses
    # allow_blank, and a report not yet acted on has "".
    action = serializers.ChoiceField(
        choices=ModerationAction.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Report
        fields = [
            "id",
            "target_type",
            "target_id",
            "reason",
            "details",
            "status",
            "action",
            "created_at",
            "resolved_at",
        ]
        read_only_fields = fields

    def get_target_id(self, report) -> int | None:
        return report.agent_id or report.comment_id or report.user_id


class ReportWriteSerializer(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=moderation.TARGET_TYPES)
    target_id = serializers.IntegerField(min_value=1)
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    details = serializers.CharField(
        required=False, allow_blank=True, max_length=moderation.MAX_DETAILS
    )


class ReportListCreateView(GenericAPIView):
    """Your reports, newest first. POST reports an agent, a comment or a
    person (`target_type`, `target_id`, `reason`, optional `details`)."""

    permission_classes = [IsAuthenticated]
    serializer_class = ReportSerializer

    def get_queryset(self):
        return moderation.report_list_mine(user=self.request.user)

    @extend_schema(operation_id="reports_list", responses=ReportSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="reports_create",
        request=ReportWriteSerializer,
        responses={201: ReportSerializer},
    )
    def post(self, request):
        body = ReportWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = call_service(
            moderation.report_create, reporter=request.user, **body.validated_data
        )
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)
