"""The Files pages: upload (drag and drop, several at once, live progress),
the list, one file with its chunks, and search with citations."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from agents.selectors import agent_list_owned
from files import search, selectors, services
from files.downloads import download_response
from files.models import FileKind

FILES_PER_PAGE = 25
PREVIEW_CHUNKS = 20


def _messages_for(request, name: str, error: ValidationError) -> None:
    for problems in error.message_dict.values():
        for problem in problems:
            messages.error(request, f"{name}: {problem}")


def files_page(request):
    """Your files and the upload area; visitors see what Files are."""
    if not request.user.is_authenticated:
        return render(request, "files/files.html", {"page": None})
    collections = list(selectors.collection_list(owner=request.user))
    current = None
    wanted = request.GET.get("collection", "")
    if wanted:
        current = next((c for c in collections if str(c.pk) == wanted), None)
        if current is None:
            raise Http404
    files = selectors.file_list(
        owner=request.user, collection_id=current.pk if current else None
    )
    page = Paginator(files, FILES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "collections": collections,
        "current_collection": current,
        "filter_query": urlencode({"collection": current.pk}) if current else "",
        "max_mb": settings.FILES_MAX_UPLOAD_MB,
        "accept": ".pdf,.docx,.pptx,.xlsx,.html,.htm,.md,.markdown,.csv,.txt",
        "kinds": FileKind.choices,
        "chunk_size": settings.FILES_CHUNK_SIZE,
        "chunk_overlap": settings.FILES_CHUNK_OVERLAP,
    }
    if request.htmx and request.GET.get("partial") == "list":
        return render(request, "files/partials/file_list_refresh.html", context)
    return render(request, "files/files.html", context)


@login_required
@require_POST
def upload(request):
    """The form's fallback without JavaScript: several files at once."""
    uploads = request.FILES.getlist("files")
    if not uploads:
        messages.error(request, _("Choose at least one file to upload."))
    for item in uploads:
        try:
            services.file_upload(
                owner=request.user,
                upload=item,
                collection_id=request.POST.get("collection") or None,
                chunk_size=request.POST.get("chunk_size") or None,
                chunk_overlap=request.POST.get("chunk_overlap") or None,
            )
        except ValidationError as error:
            _messages_for(request, item.name, error)
        else:
            messages.success(
                request, _("%(name)s uploaded: reading it now.") % {"name": item.name}
            )
    return redirect("files:list")


def _own_file(request, file_id: int):
    file = selectors.file_get(owner=request.user, file_id=file_id)
    if file is None:
        raise Http404
    return file


@login_required
def file_detail(request, file_id: int):
    file = _own_file(request, file_id)
    chunks = file.chunks.order_by("index")[:PREVIEW_CHUNKS]
    return render(
        request,
        "files/file_detail.html",
        {
            "file": file,
            "chunks": chunks,
            "preview": PREVIEW_CHUNKS,
            "collections": selectors.collection_list(owner=request.user),
        },
    )


@login_required
@require_safe
def file_download(request, file_id: int):
    """The uploaded file itself, for its owner only (as an attachment)."""
    file = selectors.file_get_downloadable(user=request.user, file_id=file_id)
    if file is None:
        raise Http404
    return download_response(file)


@login_required
@require_POST
def file_reingest(request, file_id: int):
    file = _own_file(request, file_id)
    try:
        services.file_reingest(
            file=file,
            chunk_size=request.POST.get("chunk_size") or None,
            chunk_overlap=request.POST.get("chunk_overlap") or None,
        )
    except ValidationError as error:
        _messages_for(request, file.name, error)
    else:
        messages.success(request, _("Reading %(name)s again.") % {"name": file.name})
    return redirect("files:detail", file_id=file.pk)


@login_required
@require_POST
def file_preview(request, file_id: int):
    """The first chunks the file would make with the form's settings (htmx
    swaps them in under the form); nothing changes until it is read again."""
    file = _own_file(request, file_id)
    context = {"file": file}
    try:
        context["preview"] = services.file_preview_stored(
            file=file,
            chunk_size=request.POST.get("chunk_size") or None,
            chunk_overlap=request.POST.get("chunk_overlap") or None,
        )
    except ValidationError as error:
        context["errors"] = [p for ps in error.message_dict.values() for p in ps]
    return render(request, "files/partials/chunk_preview.html", context)


@login_required
@require_POST
def file_move(request, file_id: int):
    file = _own_file(request, file_id)
    try:
        services.file_set_collection(
            file=file, collection_id=request.POST.get("collection") or None
        )
    except ValidationError as error:
        _messages_for(request, file.name, error)
    else:
        messages.success(request, _("Moved %(name)s.") % {"name": file.name})
    return redirect("files:detail", file_id=file.pk)


@login_required
@require_POST
def collection_create(request):
    try:
        collection = services.collection_create(
            owner=request.user,
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
        )
    except ValidationError as error:
        _messages_for(request, _("New collection"), error)
        return redirect("files:list")
    messages.success(
        request, _("Collection %(name)s made.") % {"name": collection.name}
    )
    return redirect(f"{reverse('files:list')}?collection={collection.pk}")


@login_required
@require_POST
def collection_delete(request, collection_id: int):
    collection = selectors.collection_get(
        owner=request.user, collection_id=collection_id
    )
    if collection is None:
        raise Http404
    name = collection.name
    services.collection_delete(collection=collection)
    messages.success(
        request,
        _("Deleted the collection %(name)s; its files are still here.")
        % {"name": name},
    )
    return redirect("files:list")


@login_required
@require_POST
def file_delete(request, file_id: int):
    file = _own_file(request, file_id)
    name = file.name
    services.file_delete(file=file)
    messages.success(request, _("Deleted %(name)s.") % {"name": name})
    return redirect("files:list")


@login_required
def file_search(request):
    """Search your ready files; each result cites its file and page."""
    query = (request.GET.get("q") or "").strip()[:1000]
    result = None
    if query:
        result = search.search_chunks(owner_id=request.user.pk, query=query, k=10)
    template = "files/partials/search_results.html" if request.htmx else None
    return render(
        request,
        template or "files/search.html",
        {"query": query, "result": result},
    )


# --- files an agent searches (a section of the agent's page) --------------------


def _own_agent(request, agent_id: int):
    return get_object_or_404(agent_list_owned(user=request.user), pk=agent_id)


def _agent_files_context(agent, user) -> dict:
    attachments = list(selectors.attachment_list(agent=agent))
    attached_files = {a.file_id for a in attachments if a.file_id}
    attached_collections = {a.collection_id for a in attachments if a.collection_id}
    return {
        "agent": agent,
        "attachments": attachments,
        "available_files": selectors.file_list(owner=user).exclude(
            pk__in=attached_files
        ),
        "available_collections": selectors.collection_list(owner=user).exclude(
            pk__in=attached_collections
        ),
        "has_tool": "file_search" in (agent.tools or []),
    }


@login_required
def agent_files(request, agent_id: int):
    """GET: the section. POST: attach (``target``) or detach
    (``detach_file`` / ``detach_collection``); htmx gets the section back."""
    agent = _own_agent(request, agent_id)
    if request.method == "POST":
        try:
            if request.POST.get("detach_file") or request.POST.get("detach_collection"):
                services.attachment_remove(
                    agent=agent,
                    user=request.user,
                    file_id=request.POST.get("detach_file") or None,
                    collection_id=request.POST.get("detach_collection") or None,
                )
            else:
                # "file:<id>" or "collection:<id>", from the one select.
                kind, _sep, target_id = request.POST.get("target", "").partition(":")
                services.attachment_add(
                    agent=agent,
                    user=request.user,
                    file_id=target_id if kind == "file" else None,
                    collection_id=target_id if kind == "collection" else None,
                )
        except ValidationError as error:
            _messages_for(request, agent.name, error)
        if not request.htmx:
            return redirect("agents:detail", agent_id=agent.pk)
    return render(
        request,
        "files/partials/agent_files.html",
        _agent_files_context(agent, request.user),
    )
