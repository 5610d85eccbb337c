"""Ratings, comments and reactions over the API, for agents and workflows
alike. Reading a shared one's ratings and comments needs no account; writing
does."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from agents import selectors as agent_selectors
from agents.models import Agent
from community import reviews
from community.models import REACTIONS, Comment, Rating
from config.api import call_service


def _agent_for(request, agent_id) -> Agent:
    agent = agent_selectors.agent_get_viewable(user=request.user, agent_id=agent_id)
    if agent is None:
        raise NotFound()
    return agent


def _workflow_for(request, workflow_id):
    from workflows.selectors import workflow_get_runnable

    workflow = workflow_get_runnable(user=request.user, workflow_id=workflow_id)
    if workflow is None:
        raise NotFound()
    return workflow


def _comment_for(request, comment_id) -> Comment:
    comment = (
        Comment.objects.select_related("agent__owner", "workflow__owner", "author")
        .filter(reviews.comment_visible_q(), pk=comment_id)
        .first()
    )
    if comment is None:
        raise NotFound()
    if comment.workflow_id:
        _workflow_for(request, comment.workflow_id)
    else:
        _agent_for(request, comment.agent_id)
    return comment


class ReadOpenWriteSignedIn(IsAuthenticated):
    def has_permission(self, request, view):
        return request.method in ("GET", "HEAD", "OPTIONS") or super().has_permission(
            request, view
        )


class RatingSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)
    review_html = serializers.SerializerMethodField()

    class Meta:
        model = Rating
        fields = [
            "id",
            "user",
            "stars",
            "review",
            "review_html",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_review_html(self, rating) -> str:
        return rating.review_html


class RatingWriteSerializer(serializers.Serializer):
    stars = serializers.IntegerField(min_value=1, max_value=5)
    review = serializers.CharField(required=False, allow_blank=True, max_length=5000)


RatingPage = inline_serializer(
    "RatingPage",
    {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": RatingSerializer(many=True),
        "average": serializers.FloatField(allow_null=True),
        "distribution": serializers.ListField(
            child=inline_serializer(
                "RatingShare",
                {
                    "stars": serializers.IntegerField(),
                    "count": serializers.IntegerField(),
                    "percent": serializers.IntegerField(),
                },
            ),
            help_text="How many ratings of each star, 5 down to 1.",
        ),
    },
)


class _RatingsView(GenericAPIView):
    permission_classes = [ReadOpenWriteSignedIn]
    serializer_class = RatingSerializer

    def _list(self, request, **target):
        (thing,) = target.values()
        page = self.paginate_queryset(reviews.rating_list(**target))
        response = self.get_paginated_response(
            self.get_serializer(page, many=True).data
        )
        response.data["average"] = thing.rating_average
        response.data["distribution"] = reviews.rating_distribution(**target)
        return response

    def _save(self, request, **target):
        body = RatingWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        existed = Rating.objects.filter(**target, user=request.user).exists()
        rating = call_service(
            reviews.rating_save, user=request.user, **target, **body.validated_data
        )
        return Response(
            RatingSerializer(rating).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )


class AgentRatingsView(_RatingsView):
    """An agent's ratings, newest first. POST rates it (1 to 5 stars and an
    optional markdown review); posting again edits your rating."""

    @extend_schema(operation_id="agent_ratings_list", responses=RatingPage)
    def get(self, request, agent_id: int):
        return self._list(request, agent=_agent_for(request, agent_id))

    @extend_schema(
        operation_id="agent_ratings_save",
        request=RatingWriteSerializer,
        responses={201: RatingSerializer, 200: RatingSerializer},
    )
    def post(self, request, agent_id: int):
        return self._save(request, agent=_agent_for(request, agent_id))


class WorkflowRatingsView(_RatingsView):
    """A shared workflow's ratings, as an agent's."""

    @extend_schema(operation_id="workflow_ratings_list", responses=RatingPage)
    def get(self, request, workflow_id: int):
        return self._list(request, workflow=_workflow_for(request, workflow_id))

    @extend_schema(
        operation_id="workflow_ratings_save",
        request=RatingWriteSerializer,
        responses={201: RatingSerializer, 200: RatingSerializer},
    )
    def post(self, request, workflow_id: int):
        return self._save(request, workflow=_workflow_for(request, workflow_id))


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()
    deleted = serializers.SerializerMethodField()
    reactions = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = [
            "id",
            "author",
            "parent",
            "body",
            "body_html",
            "deleted",
            "reactions",
            "created_at",
            "edited_at",
        ]
        read_only_fields = fields

    def get_author(self, comment) -> str | None:
        return None if comment.deleted_at else comment.author.username

    def get_body_html(self, comment) -> str:
        return comment.body_html

    def get_deleted(self, comment) -> bool:
        return comment.deleted_at is not None

    def get_reactions(self, comment) -> list[dict]:
        return reviews.reaction_summary(
            comment.reactions.all(), user=self.context.get("user")
        )


class ThreadSerializer(CommentSerializer):
    replies = CommentSerializer(many=True, read_only=True)

    class Meta(CommentSerializer.Meta):
        fields = [*CommentSerializer.Meta.fields, "replies"]
        read_only_fields = fields


class CommentWriteSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)
    parent = serializers.IntegerField(required=False, allow_null=True)


class _CommentsView(GenericAPIView):
    permission_classes = [ReadOpenWriteSignedIn]
    serializer_class = ThreadSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "user": self.request.user}

    def _list(self, request, **target):
        page = self.paginate_queryset(reviews.comment_threads(**target))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _create(self, request, **target):
        body = CommentWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        parent = None
        if body.validated_data.get("parent"):
            parent = Comment.objects.filter(
                pk=body.validated_data["parent"], **target
            ).first()
            if parent is None:
                raise serializers.ValidationError({"parent": ["No such comment here."]})
        comment = call_service(
            reviews.comment_create,
            **target,
            user=request.user,
            body=body.validated_data["body"],
            parent=parent,
        )
        return Response(
            CommentSerializer(comment, context={"user": request.user}).data,
            status=status.HTTP_201_CREATED,
        )


class AgentCommentsView(_CommentsView):
    """An agent's comments, newest threads first, each with its replies.
    POST comments (markdown), or replies with `parent`."""

    @extend_schema(
        operation_id="agent_comments_list", responses=ThreadSerializer(many=True)
    )
    def get(self, request, agent_id: int):
        return self._list(request, agent=_agent_for(request, agent_id))

    @extend_schema(
        operation_id="agent_comments_create",
        request=CommentWriteSerializer,
        responses={201: CommentSerializer},
    )
    def post(self, request, agent_id: int):
        return self._create(request, agent=_agent_for(request, agent_id))


class WorkflowCommentsView(_CommentsView):
    """A shared workflow's comments, as an agent's."""

    @extend_schema(
        operation_id="workflow_comments_list", responses=ThreadSerializer(many=True)
    )
    def get(self, request, workflow_id: int):
        return self._list(request, workflow=_workflow_for(request, workflow_id))

    @extend_schema(
        operation_id="workflow_comments_create",
        request=CommentWriteSerializer,
        responses={201: CommentSerializer},
    )
    def post(self, request, workflow_id: int):
        return self._create(request, workflow=_workflow_for(request, workflow_id))


class CommentDetailView(APIView):
    """Edit (PATCH `body`) or delete your own comment."""

    @extend_schema(request=CommentWriteSerializer, responses=CommentSerializer)
    def patch(self, request, comment_id: int):
        comment = _comment_for(request, comment_id)
        body = CommentWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        comment = call_service(
            reviews.comment_edit,
            comment=comment,
            user=request.user,
            body=body.validated_data.get("body", ""),
        )
        return Response(CommentSerializer(comment, context={"user": request.user}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, comment_id: int):
        call_service(
            reviews.comment_delete,
            comment=_comment_for(request, comment_id),
            user=request.user,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class CommentHideView(APIView):
    """The agent's owner hides (`{"hidden": true}`) or shows a comment."""

    @extend_schema(
        request=inline_serializer(
            "CommentHide", {"hidden": serializers.BooleanField()}
        ),
        responses={204: None},
    )
    def post(self, request, comment_id: int):
        comment = (
            Comment.objects.select_related("agent", "workflow")
            .filter(pk=comment_id)
            .first()
        )
        if comment is None or not (
            request.user.is_staff or comment.target.owner_id == request.user.pk
        ):
            raise NotFound()
        hidden = serializers.BooleanField().to_internal_value(
            request.data.get("hidden", True)
        )
        call_service(
            reviews.comment_set_hidden,
            comment=comment,
            user=request.user,
            hidden=hidden,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReactionWriteSerializer(serializers.Serializer):
    emoji = serializers.ChoiceField(choices=REACTIONS)


ReactionSchema = inline_serializer(
    "Reactions",
    {
        "on": serializers.BooleanField(),
        "reactions": inline_serializer(
            "ReactionCount",
            {
                "emoji": serializers.CharField(),
                "count": serializers.IntegerField(),
                "mine": serializers.BooleanField(),
            },
            many=True,
        ),
    },
)


class _ReactionView(APIView):
    def _toggle(self, request, **target):
        body = ReactionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        on = call_service(
            reviews.reaction_toggle,
            user=request.user,
            emoji=body.validated_data["emoji"],
            **target,
        )
        (owner,) = target.values()
        return Response(
            {
                "on": on,
                "reactions": reviews.reaction_summary(
                    owner.reactions.all(), user=request.user
                ),
            }
        )


class AgentReactionsView(_ReactionView):
    """Toggle a reaction (👍 ❤️ 🚀 🤔) on an agent."""

    @extend_schema(request=ReactionWriteSerializer, responses=ReactionSchema)
    def post(self, request, agent_id: int):
        return self._toggle(request, agent=_agent_for(request, agent_id))


class WorkflowReactionsView(_ReactionView):
    """Toggle a reaction (👍 ❤️ 🚀 🤔) on a shared workflow."""

    @extend_schema(request=ReactionWriteSerializer, responses=ReactionSchema)
    def post(self, request, workflow_id: int):
        return self._toggle(request, workflow=_workflow_for(request, workflow_id))


class CommentReactionsView(_ReactionView):
    """Toggle a reaction (👍 ❤️ 🚀 🤔) on a comment."""

    @extend_schema(request=ReactionWriteSerializer, responses=ReactionSchema)
    def post(self, request, comment_id: int):
        return self._toggle(request, comment=_comment_for(request, comment_id))
