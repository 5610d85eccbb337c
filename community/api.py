"""REST endpoints for the signed-in user, API keys, people and notifications."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from community import selectors, services
from community.models import Notification, NotificationKind, PersonalApiKey, User
from config.api import raise_as_drf
from config.markdown import plain_text, render_markdown


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


# ---------- People ----------


class PublicUserSerializer(serializers.Serializer):
    """A person as anyone may see them; `bio_html` is sanitized HTML."""

    username = serializers.CharField()
    display_name = serializers.CharField()
    bio = serializers.CharField(help_text="Markdown source.")
    bio_html = serializers.CharField(help_text="The bio rendered and sanitized.")
    links = serializers.ListField(child=serializers.URLField())
    avatar_url = serializers.CharField(allow_null=True)
    followers_count = serializers.IntegerField()
    following_count = serializers.IntegerField()
    profile_url = serializers.CharField()

    def to_representation(self, user):
        profile = selectors.profile_of(user)
        request = self.context.get("request")
        avatar_url = None
        if profile.avatar:
            avatar_url = profile.avatar.url
            if request is not None:
                avatar_url = request.build_absolute_uri(avatar_url)
        return {
            "username": user.username,
            "display_name": profile.display_name,
            "bio": profile.bio,
            "bio_html": str(render_markdown(profile.bio)),
            "links": list(profile.links),
            "avatar_url": avatar_url,
            "followers_count": profile.followers_count,
            "following_count": profile.following_count,
            "profile_url": user.get_absolute_url(),
        }


class UserDetailSerializer(PublicUserSerializer):
    agents_count = serializers.IntegerField(help_text="Public agents.")
    total_runs = serializers.IntegerField(help_text="Runs of their public agents.")
    rating_average = serializers.FloatField(
        allow_null=True, help_text="Over all ratings of their public agents."
    )
    date_joined = serializers.DateTimeField()

    def to_representation(self, user):
        data = super().to_representation(user)
        data["agents_count"] = selectors.agent_list_published(owner=user).count()
        stats = selectors.author_stats(owner=user)
        data["total_runs"] = stats["runs"]
        data["rating_average"] = stats["rating_average"]
        data["date_joined"] = serializers.DateTimeField().to_representation(
            user.date_joined
        )
        return data


def _public_user_or_404(username: str) -> User:
    person = selectors.user_get_public(username=username)
    if person is None:
        raise NotFound()
    return person


class UserDetailView(APIView):
    """Anyone's public profile (no sign-in needed)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=UserDetailSerializer)
    def get(self, request, username: str):
        person = _public_user_or_404(username)
        return Response(UserDetailSerializer(person, context={"request": request}).data)


class ProfileUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(
        max_length=50, required=False, allow_blank=True
    )
    bio = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    links = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        max_length=4,
        required=False,
    )
    email_preferences = serializers.DictField(
        child=serializers.BooleanField(),
        required=False,
        help_text="{kind: true|false} for follow, comment, reply, rating, fork, "
        "message, low_balance; kinds left out keep their setting.",
    )
    avatar = serializers.FileField(
        required=False, help_text="PNG, JPEG, WebP or GIF up to 5 MB (multipart)."
    )
    remove_avatar = serializers.BooleanField(required=False, default=False)


class MyProfileSerializer(PublicUserSerializer):
    email_preferences = serializers.DictField(child=serializers.BooleanField())

    def to_representation(self, user):
        data = super().to_representation(user)
        profile = selectors.profile_of(user)
        data["email_preferences"] = {
            kind: profile.wants_email(kind) for kind in NotificationKind.values
        }
        return data


class MyProfileView(APIView):
    """Your own profile. PATCH changes the fields sent (JSON, or multipart to
    upload an avatar); invalid input changes nothing and gets 400."""

    @extend_schema(responses=MyProfileSerializer)
    def get(self, request):
        return Response(
            MyProfileSerializer(request.user, context={"request": request}).data
        )

    @extend_schema(request=ProfileUpdateSerializer, responses=MyProfileSerializer)
    def patch(self, request):
        serializer = ProfileUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            services.profile_update(user=request.user, **serializer.validated_data)
        except DjangoValidationError as error:
            raise_as_drf(error)
        user = User.objects.select_related("profile").get(pk=request.user.pk)
        return Response(MyProfileSerializer(user, context={"request": request}).data)


class FollowView(APIView):
    """Follow (POST) or unfollow (DELETE) someone. Both are idempotent."""

    @extend_schema(
        request=None, responses={200: PublicUserSerializer, 201: PublicUserSerializer}
    )
    def post(self, request, username: str):
        person = _public_user_or_404(username)
        try:
            _follow, created = services.follow_create(
                follower=request.user, followee=person
            )
        except DjangoValidationError as error:
            raise_as_drf(error)
        person = selectors.user_get_public(username=username)
        return Response(
            PublicUserSerializer(person, context={"request": request}).data,
            status=201 if created else 200,
        )

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, username: str):
        person = _public_user_or_404(username)
        services.follow_delete(follower=request.user, followee=person)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _PeopleListView(ListModelMixin, GenericAPIView):
    permission_classes = [AllowAny]
    serializer_class = PublicUserSerializer

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


class FollowerListView(_PeopleListView):
    """Who follows this person, most recent first."""

    def get_queryset(self):
        return selectors.follower_list(
            user=_public_user_or_404(self.kwargs["username"])
        )


class FollowingListView(_PeopleListView):
    """Whom this person follows, most recent first."""

    def get_queryset(self):
        return selectors.following_list(
            user=_public_user_or_404(self.kwargs["username"])
        )


class FeedAgentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    summary = serializers.CharField()
    owner = serializers.CharField()
    url = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, agent):
        timestamp = serializers.DateTimeField()
        return {
            "id": agent.pk,
            "name": agent.name,
            "slug": agent.slug,
            "summary": plain_text(agent.description, limit=200),
            "owner": agent.owner.username,
            "url": agent.get_absolute_url(),
            "created_at": timestamp.to_representation(agent.created_at),
            "updated_at": timestamp.to_representation(agent.updated_at),
        }


class FeedView(ListModelMixin, GenericAPIView):
    """New and updated public agents of the people you follow, newest first."""

    serializer_class = FeedAgentSerializer

    def get_queryset(self):
        return selectors.feed_agents(user=self.request.user)

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)


# ---------- Notifications ----------


class NotificationSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "actor", "text", "url", "data", "read_at", "created_at"]
        read_only_fields = fields


class NotificationListView(ListModelMixin, GenericAPIView):
    """Your notifications, newest first (`?unread=1` for unread ones only).
    The page carries `unread_count`, your total of unread notifications."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        unread = self.request.query_params.get("unread", "") in ("1", "true", "yes")
        return selectors.notification_list(user=self.request.user, unread_only=unread)

    def get(self, request, *args, **kwargs):
        response = self.list(request, *args, **kwargs)
        response.data["unread_count"] = selectors.notification_unread_count(
            user=request.user
        )
        return response


class NotificationReadView(APIView):
    """Mark one of your notifications read."""

    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request, notification_id: int):
        notification = selectors.notification_get_for_user(
            user=request.user, notification_id=notification_id
        )
        if notification is None:
            raise NotFound()
        services.notification_mark_read(notification=notification)
        data = dict(NotificationSerializer(notification).data)
        data["unread_count"] = selectors.notification_unread_count(user=request.user)
        return Response(data)


class NotificationReadAllView(APIView):
    """Mark all your notifications read."""

    @extend_schema(request=None, responses={200: None})
    def post(self, request):
        marked = services.notification_mark_all_read(user=request.user)
        return Response({"marked": marked, "unread_count": 0})
