"""Account settings pages: download your data, delete your account."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from community.account_deletion import account_delete, account_delete_problems
from community.account_export import account_export
from community.forms import AccountDeleteForm


def export_response(user) -> FileResponse:
    """The zip of ``user``'s data, built in a temporary file (deleted when
    the response is closed) and streamed from there."""
    archive = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it)
    account_export(user=user, destination=archive)
    archive.seek(0)
    filename = f"agentry-{user.username}-{timezone.now():%Y%m%d}.zip"
    return FileResponse(
        archive, as_attachment=True, filename=filename, content_type="application/zip"
    )


def _render(request, form, status: int = 200):
    return render(
        request,
        "community/account_settings.html",
        {
            "form": form,
            "problems": account_delete_problems(user=request.user),
            "has_password": request.user.has_usable_password(),
        },
        status=status,
    )


@login_required
@require_GET
def account_settings(request):
    return _render(request, AccountDeleteForm())


@login_required
@require_GET
def account_export_download(request):
    return export_response(request.user)


@login_required
@require_POST
def account_delete_submit(request):
    form = AccountDeleteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            account_delete(
                user=request.user,
                password=data["password"],
                confirmation=data["confirmation"],
                shared_items=data["shared_items"],
            )
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
        else:
            logout(request)
            messages.success(request, _("Your account is deleted. Goodbye."))
            return redirect("home")
    return _render(request, form, status=400)
