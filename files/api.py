"""Files over the API: upload (multipart), list, inspect, download,
re-ingest, delete, and collections. Every file is its owner's alone."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.selectors import agent_list_owned
from config.api import FormParser, JSONParser, MultiPartParser, call_service
from files import search, selectors, services
from files.downloads import DOWNLOAD_TYPES, download_response
from files.models import Collection, File, FileKind, FileStatus


class FileSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField(
        help_text="processing, ready or failed (see stage for the step)"
    )
    stage = serializers.CharField(
        source="status",
        read_only=True,
        help_text="uploaded, extracting, chunking, embedding, ready or failed",
    )
    collection = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = File
        fields = [
            "id",
            "name",
            "kind",
            "size",
            "sha256",
            "collection",
            "status",
            "stage",
            "progress",
            "error",
            "page_count",
            "chunk_count",
            "chunk_size",
            "chunk_overlap",
            "embedding_model",
            "created_at",
            "ingested_at",
        ]
        read_only_fields = fields

    def get_status(self, file) -> str:
        return services.public_status(file)


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    collection = serializers.IntegerField(required=False, allow_null=True)
    chunk_size = serializers.IntegerField(required=False)
    chunk_overlap = serializers.IntegerField(required=False)


class FileUploadView(APIView):
    """Upload one file (multipart field `file`); it is ingested in the
    background: poll the file, or listen on /ws/events/ for `file` events."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=UploadSerializer, responses={201: FileSerializer})
    def post(self, request):
        body = UploadSerializer(data=request.data)
        if "file" not in request.FILES:
            raise serializers.ValidationError({"file": ["Choose a file to upload."]})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        file = call_service(
            services.file_upload,
            owner=request.user,
            upload=data["file"],
            collection_id=data.get("collection"),
            chunk_size=data.get("chunk_size"),
            chunk_overlap=data.get("chunk_overlap"),
        )
        return Response(FileSerializer(file).data, status=status.HTTP_201_CREATED)


class FileListView(GenericAPIView):
    """Your files, newest first (`?collection=<id>`, `?stage=ready`)."""

    permission_classes = [IsAuthenticated]
    serializer_class = FileSerializer

    @extend_schema(operation_id="files_list", responses=FileSerializer(many=True))
    def get(self, request):
        stage = request.query_params.get("stage", "")
        files = selectors.file_list(
            owner=request.user,
            collection_id=request.query_params.get("collection") or None,
            status=stage if stage in FileStatus.values else "",
        )
        page = self.paginate_queryset(files)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def _file(request, file_id) -> File:
    file = selectors.file_get(owner=request.user, file_id=file_id)
    if file is None:
        raise NotFound()
    return file


class FileMoveSerializer(serializers.Serializer):
    collection = serializers.IntegerField(allow_null=True, min_value=1)


class FileDetailView(APIView):
    """One of your files (status, stage, progress, counts, error); PATCH moves
    it into one of your collections (`{"collection": id}`, or null for none);
    DELETE removes it with its chunks."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(responses=FileSerializer)
    def get(self, request, file_id: int):
        return Response(FileSerializer(_file(request, file_id)).data)

    @extend_schema(request=FileMoveSerializer, responses=FileSerializer)
    def patch(self, request, file_id: int):
        file = _file(request, file_id)
        body = FileMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        file = call_service(
            services.file_set_collection,
            file=file,
            collection_id=body.validated_data["collection"],
        )
        return Response(FileSerializer(file).data)

    @extend_schema(responses={204: None})
    def delete(self, request, file_id: int):
        services.file_delete(file=_file(request, file_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class FileDownloadView(APIView):
    """The uploaded file itself, as an attachment, typed by its `kind`
    (HTML as `application/octet-stream`). Only its owner may download it:
    an agent it is attached to searches it for others, never hands it out."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="files_download",
        responses={
            (200, media_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file as it was uploaded."
            )
            for media_type in sorted(set(DOWNLOAD_TYPES.values()))
        },
    )
    def get(self, request, file_id: int):
        file = selectors.file_get_downloadable(user=request.user, file_id=file_id)
        if file is None:
            raise NotFound()
        return download_response(file)


class ReingestSerializer(serializers.Serializer):
    chunk_size = serializers.IntegerField(required=False)
    chunk_overlap = serializers.IntegerField(required=False)


class FileReingestView(APIView):
    """Ingest the file again, optionally with other chunk settings."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=ReingestSerializer, responses={202: FileSerializer})
    def post(self, request, file_id: int):
        body = ReingestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        file = call_service(
            services.file_reingest, file=_file(request, file_id), **body.validated_data
        )
        return Response(FileSerializer(file).data, status=status.HTTP_202_ACCEPTED)


class ChunkSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    text = serializers.CharField()
    page = serializers.IntegerField(allow_null=True)
    heading = serializers.CharField()
    token_count = serializers.IntegerField()


class PreviewSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="how many chunks the file makes")
    chunk_size = serializers.IntegerField()
    chunk_overlap = serializers.IntegerField()
    chunks = ChunkSerializer(many=True, help_text="the first 20")


def _preview_response(preview) -> Response:
    return Response(
        PreviewSerializer(
            {
                "total": preview.total,
                "chunk_size": preview.size,
                "chunk_overlap": preview.overlap,
                "chunks": preview.chunks,
            }
        ).data
    )


class PreviewUploadSerializer(ReingestSerializer):
    file = serializers.FileField()


class FilePreviewView(APIView):
    """How a file would be chunked (multipart `file`, optional `chunk_size`
    and `chunk_overlap`): the first 20 chunks and the total. Nothing is
    stored; upload it when the chunks look right."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=PreviewUploadSerializer, responses=PreviewSerializer)
    def post(self, request):
        # The file itself is checked by the service (missing, empty, too big).
        body = ReingestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        preview = call_service(
            services.file_preview,
            upload=request.FILES.get("file"),
            chunk_size=data.get("chunk_size"),
            chunk_overlap=data.get("chunk_overlap"),
        )
        return _preview_response(preview)


class FileChunksPreviewView(APIView):
    """How one of your files would be chunked with other settings
    (`chunk_size`, `chunk_overlap`; its own by default), before ingesting it
    again with them: the first 20 chunks and the total."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        operation_id="files_chunks_preview",
        request=ReingestSerializer,
        responses=PreviewSerializer,
    )
    def post(self, request, file_id: int):
        file = _file(request, file_id)
        body = ReingestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        preview = call_service(services.file_preview_stored, file=file, **data)
        return _preview_response(preview)


class CollectionSerializer(serializers.ModelSerializer):
    file_count = serializers.SerializerMethodField()

    class Meta:
        model = Collection
        fields = ["id", "name", "description", "file_count", "created_at"]
        read_only_fields = ["id", "created_at"]

    def get_file_count(self, collection) -> int:
        count = getattr(collection, "file_count", None)
        return collection.files.count() if count is None else count


class CollectionDetailView(APIView):
    """One of your collections; DELETE removes it (its files stay, outside
    any collection, and agents it was attached to lose it)."""

    permission_classes = [IsAuthenticated]

    def _collection(self, request, collection_id) -> Collection:
        collection = selectors.collection_get(
            owner=request.user, collection_id=collection_id
        )
        if collection is None:
            raise NotFound()
        return collection

    @extend_schema(responses=CollectionSerializer)
    def get(self, request, collection_id: int):
        return Response(
            CollectionSerializer(self._collection(request, collection_id)).data
        )

    @extend_schema(responses={204: None})
    def delete(self, request, collection_id: int):
        services.collection_delete(collection=self._collection(request, collection_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CollectionListView(GenericAPIView):
    """Your collections; POST makes one (`name`, optional `description`)."""

    permission_classes = [IsAuthenticated]
    serializer_class = CollectionSerializer

    @extend_schema(
        operation_id="files_collections_list",
        responses=CollectionSerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.collection_list(owner=request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses={201: CollectionSerializer})
    def post(self, request):
        body = CollectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        collection = call_service(
            services.collection_create, owner=request.user, **body.validated_data
        )
        return Response(
            CollectionSerializer(collection).data, status=status.HTTP_201_CREATED
        )


class SearchSerializer(serializers.Serializer):
    query = serializers.CharField(max_length=1000)
    file_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=200
    )
    collection = serializers.IntegerField(required=False, min_value=1)
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=FileKind.choices), required=False
    )
    k = serializers.IntegerField(
        required=False, min_value=1, max_value=search.MAX_K, default=8
    )


class HitSerializer(serializers.Serializer):
    chunk_id = serializers.IntegerField()
    file_id = serializers.IntegerField()
    file_name = serializers.CharField()
    page = serializers.IntegerField(allow_null=True)
    heading = serializers.CharField()
    text = serializers.CharField()
    score = serializers.FloatField(help_text="the fused (reciprocal rank) score")
    vector_score = serializers.FloatField(allow_null=True)
    vector_rank = serializers.IntegerField(allow_null=True)
    keyword_score = serializers.FloatField(allow_null=True)
    keyword_rank = serializers.IntegerField(allow_null=True)


class SearchResultSerializer(serializers.Serializer):
    query = serializers.CharField()
    results = HitSerializer(many=True)
    files_searched = serializers.IntegerField()
    reason = serializers.CharField(help_text="no_files, none_ready, no_match or ''")


class FileSearchView(APIView):
    """Hybrid search (vector + full text, fused) over your ready files. Each
    result has the chunk's text, its file and page, the fused score and the
    vector and keyword scores and ranks behind it."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=SearchSerializer, responses=SearchResultSerializer)
    def post(self, request):
        body = SearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        collection = data.get("collection")
        result = search.search_chunks(
            owner_id=request.user.pk,
            query=data["query"],
            k=data["k"],
            file_ids=data.get("file_ids"),
            collection_ids=[collection] if collection else None,
            kinds=data.get("kinds"),
        )
        return Response(
            {
                "query": result.query,
                "results": [hit.as_dict() for hit in result.hits],
                "files_searched": result.files_searched,
                "reason": result.reason,
            }
        )


# --- files attached to an agent ------------------------------------------------


def _own_agent(request, agent_id):
    """Only the owner manages this; anyone else gets 404."""
    return get_object_or_404(agent_list_owned(user=request.user), pk=agent_id)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    file = FileSerializer(read_only=True, allow_null=True)
    collection = CollectionSerializer(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)


class AttachWriteSerializer(serializers.Serializer):
    file = serializers.IntegerField(required=False, min_value=1)
    collection = serializers.IntegerField(required=False, min_value=1)


class AgentFilesView(APIView):
    """The files and collections an agent's `file_search` searches (yours
    only). POST attaches one: `{"file": id}` or `{"collection": id}`."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(responses=AttachmentSerializer(many=True))
    def get(self, request, agent_id: int):
        agent = _own_agent(request, agent_id)
        attachments = selectors.attachment_list(agent=agent)
        return Response(AttachmentSerializer(attachments, many=True).data)

    @extend_schema(request=AttachWriteSerializer, responses={201: AttachmentSerializer})
    def post(self, request, agent_id: int):
        agent = _own_agent(request, agent_id)
        body = AttachWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        attachment = call_service(
            services.attachment_add,
            agent=agent,
            user=request.user,
            file_id=body.validated_data.get("file"),
            collection_id=body.validated_data.get("collection"),
        )
        return Response(
            AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED
        )


class AgentFileDetachView(APIView):
    """Detach a file (or, under `collections/`, a collection) from the agent."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, agent_id: int, file_id=None, collection_id=None):
        agent = _own_agent(request, agent_id)
        removed = call_service(
            services.attachment_remove,
            agent=agent,
            user=request.user,
            file_id=file_id,
            collection_id=collection_id,
        )
        if not removed:
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)
