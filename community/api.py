"""REST endpoints for the signed-in user and their personal API keys."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response
from rest_framework.views import APIView

from community import selectors, services
from community.models import PersonalApiKey, User
from config.api import raise_as_drf


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "date_joined"]
        read_only_fields = fields


class MeView(APIView):
    """The signed-in user."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class ApiKeySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="prefix", read_only=True)
    name = serializers.CharField(max_length=50)
    expires_at = serializers.DateTimeField(
        source="expiry_date", required=False, allow_null=True
    )

    class Meta:
        model = PersonalApiKey
        fields = ["id", "name", "created", "expires_at", "last_used_at", "revoked"]
        read_only_fields = ["id", "created", "last_used_at", "revoked"]


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The full key. It is shown only in this response."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class ApiKeyListCreateView(ListModelMixin, GenericAPIView):
    """Your personal API keys. Creating one returns its secret, once."""

    serializer_class = ApiKeySerializer

    def get_queryset(self):
        return selectors.api_key_list_for_user(user=self.request.user)

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(request=ApiKeySerializer, responses={201: ApiKeyCreatedSerializer})
    def post(self, request):
        serializer = ApiKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            api_key, secret = services.api_key_create(
                user=request.user,
                name=serializer.validated_data["name"],
                expires_at=serializer.validated_data.get("expiry_date"),
            )
        except DjangoValidationError as error:
            raise_as_drf(error)
        api_key.key = secret
        return Response(ApiKeyCreatedSerializer(api_key).data, status=201)


class ApiKeyDetailView(APIView):
    """One of your API keys. DELETE revokes it for good."""

    @extend_schema(responses=ApiKeySerializer)
    def get(self, request, prefix: str):
        return Response(ApiKeySerializer(self._get(request, prefix)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, prefix: str):
        services.api_key_revoke(api_key=self._get(request, prefix))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _get(self, request, prefix: str) -> PersonalApiKey:
        api_key = selectors.api_key_get_for_user(user=request.user, prefix=prefix)
        if api_key is None:
            raise NotFound()
        return api_key
