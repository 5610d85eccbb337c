"""REST endpoints for one's own account: export its data, delete it."""

from django.contrib.auth import logout
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from community.account_deletion import SHARED_CHOICES, account_delete
from community.views_account import export_response
from config.api import call_service


class AccountExportView(APIView):
    """Everything about you as a zip of JSON files and your uploads."""

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The zip archive."
            )
        }
    )
    def get(self, request):
        return export_response(request.user)


class AccountDeleteSerializer(serializers.Serializer):
    shared_items = serializers.CharField(
        help_text=(
            "What happens to your public and unlisted agents and workflows: "
            f"{' or '.join(SHARED_CHOICES)} (transfer keeps them for others "
            "under the deleted-user account)."
        )
    )
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Your password (accounts that have one).",
    )
    confirmation = serializers.CharField(help_text="Your username, typed again.")


class AccountDeleteView(APIView):
    """Delete your account for good (see the README for what is kept)."""

    @extend_schema(request=AccountDeleteSerializer, responses={204: None})
    def post(self, request):
        serializer = AccountDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        call_service(
            account_delete,
            user=request.user,
            password=data.get("password"),
            confirmation=data["confirmation"],
            shared_items=data["shared_items"],
        )
        # A browser session signed in to the API ends too.
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
