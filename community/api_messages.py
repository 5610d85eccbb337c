"""REST endpoints for direct messages and blocks (/api/v1/messages/...,
/api/v1/users/{username}/block/). /api/v1/conversations/ is the agents' chat."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response
from rest_framework.views import APIView

from community import messaging, selectors
from community.api import PublicUserSerializer
from community.models import Thread, User
from config.api import raise_as_drf
from config.markdown import plain_text, render_markdown


def _person(user: User) -> dict:
    profile = selectors.profile_of(user)
    return {
        "username": user.username,
        "display_name": profile.display_name,
        "profile_url": user.get_absolute_url(),
    }


class MessagePersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    profile_url = serializers.CharField()


class DirectMessageSerializer(serializers.Serializer):
    """One message; ``body`` is the markdown source, ``body_html`` the same
    rendered and sanitized."""

    id = serializers.IntegerField()
    sender = serializers.CharField(help_text="The sender's username.")
    body = serializers.CharField()
    body_html = serializers.CharField()
    created_at = serializers.DateTimeField()

    def to_representation(self, message):
        return {
            "id": message.pk,
            "sender": message.sender.username,
            "body": message.body,
            "body_html": str(render_markdown(message.body)),
            "created_at": serializers.DateTimeField().to_representation(
                message.created_at
            ),
        }


class MessageThreadSerializer(serializers.Serializer):
    """A thread as its participant sees it: the other person, the last
    message's plain-text preview, and their unread count."""

    id = serializers.IntegerField()
    other = MessagePersonSerializer()
    last_message = serializers.DictField(allow_null=True)
    unread_count = serializers.IntegerField()
    updated_at = serializers.DateTimeField()
    url = serializers.CharField(help_text="The thread's page on the site.")

    def to_representation(self, thread: Thread):
        user = self.context["request"].user
        timestamp = serializers.DateTimeField()
        last = thread.last_message
        return {
            "id": thread.pk,
            "other": _person(thread.other(user)),
            "last_message": None
            if last is None
            else {
                "id": last.pk,
                "sender": last.sender.username,
                "preview": plain_text(last.body, limit=140),
                "created_at": timestamp.to_representation(last.created_at),
            },
            "unread_count": thread.unread_for(user),
            "updated_at": timestamp.to_representation(thread.updated_at),
            "url": thread.get_absolute_url(),
        }


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=messaging.MAX_BODY, help_text="Markdown, at most 5000 characters."
    )


class MessageThreadCreateSerializer(MessageCreateSerializer):
    to = serializers.CharField(max_length=150, help_text="The recipient's username.")


def _send(request, **kwargs):
    try:
        return messaging.message_send(sender=request.user, **kwargs)
    except DjangoValidationError as error:
        raise_as_drf(error)


class ThreadListView(ListModelMixin, GenericAPIView):
    """Your message threads, latest first. POST {"to", "body"} sends someone a
    message, starting your thread with them or continuing it."""

    serializer_class = MessageThreadSerializer

    def get_queryset(self):
        return messaging.thread_list(user=self.request.user)

    def get(self, request, *args, **kwargs):
        response = self.list(request, *args, **kwargs)
        response.data["unread_count"] = messaging.message_unread_count(
            user=request.user
        )
        return response

    @extend_schema(
        request=MessageThreadCreateSerializer, responses={201: MessageThreadSerializer}
    )
    def post(self, request):
        serializer = MessageThreadCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        recipient = selectors.user_get_public(username=serializer.validated_data["to"])
        if recipient is None:
            raise serializers.ValidationError({"to": ["No one has that username."]})
        message = _send(
            request, recipient=recipient, body=serializer.validated_data["body"]
        )
        thread = messaging.thread_get_for_user(
            user=request.user, thread_id=message.thread_id
        )
        data = MessageThreadSerializer(thread, context={"request": request}).data
        data["message"] = DirectMessageSerializer(message).data
        return Response(data, status=status.HTTP_201_CREATED)


def _thread_or_404(request, thread_id) -> Thread:
    thread = messaging.thread_get_for_user(user=request.user, thread_id=thread_id)
    if thread is None:
        raise NotFound()
    return thread


class ThreadDetailView(ListModelMixin, GenericAPIView):
    """A thread's messages, newest first (paginated), with the thread itself
    under ``thread``. Reading it marks the thread read for you."""

    serializer_class = DirectMessageSerializer

    def get_queryset(self):
        return messaging.message_list(thread=self.thread)

    @extend_schema(operation_id="v1_messages_threads_retrieve")
    def get(self, request, thread_id: int, *args, **kwargs):
        self.thread = _thread_or_404(request, thread_id)
        response = self.list(request, *args, **kwargs)
        messaging.thread_mark_read(thread=self.thread, user=request.user)
        response.data["thread"] = MessageThreadSerializer(
            self.thread, context={"request": request}
        ).data
        return response


class ThreadMessagesView(APIView):
    """Reply in a thread."""

    @extend_schema(
        request=MessageCreateSerializer, responses={201: DirectMessageSerializer}
    )
    def post(self, request, thread_id: int):
        thread = _thread_or_404(request, thread_id)
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = _send(
            request,
            recipient=thread.other(request.user),
            body=serializer.validated_data["body"],
        )
        return Response(DirectMessageSerializer(message).data, status=201)


class UnreadView(APIView):
    """How many messages you have not read, over all threads."""

    @extend_schema(responses={200: {"type": "object"}})
    def get(self, request):
        return Response(
            {"unread_count": messaging.message_unread_count(user=request.user)}
        )


class BlockView(APIView):
    """Block (POST) or unblock (DELETE) someone: while either of you blocks the
    other, neither can message the other. Both are idempotent."""

    def _person(self, username: str) -> User:
        person = selectors.user_get_public(username=username)
        if person is None:
            raise NotFound()
        return person

    @extend_schema(request=None, responses={200: None, 201: None})
    def post(self, request, username: str):
        person = self._person(username)
        try:
            _block, created = messaging.block_create(
                blocker=request.user, blocked=person
            )
        except DjangoValidationError as error:
            raise_as_drf(error)
        return Response(
            {"username": person.username, "blocked": True},
            status=201 if created else 200,
        )

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, username: str):
        messaging.block_delete(blocker=request.user, blocked=self._person(username))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BlockedListView(ListModelMixin, GenericAPIView):
    """The people you have blocked, most recent first."""

    serializer_class = PublicUserSerializer

    def get_queryset(self):
        return messaging.block_list(user=self.request.user)

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)
