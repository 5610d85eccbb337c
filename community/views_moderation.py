"""The report page: anyone signed in reports an agent, a comment or a person.
Staff work the reports in the admin (community.admin.ReportAdmin)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from community import moderation
from community.forms import ReportForm


def _next_url(request, target) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    if hasattr(target, "get_listing_url"):
        return target.get_listing_url()
    if hasattr(target, "target"):
        # A comment: on its agent's or workflow's page.
        return target.target.get_listing_url() + f"#comment-{target.pk}"
    return target.get_absolute_url()


@login_required
def report(request, target_type: str, target_id: int):
    """GET: the form, with what is being reported. POST: the report."""
    try:
        target = moderation.report_target(
            reporter=request.user, target_type=target_type, target_id=target_id
        )
    except ValidationError:
        raise Http404 from None
    form = ReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                moderation.report_create(
                    reporter=request.user,
                    target_type=target_type,
                    target_id=target_id,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
            except PermissionDenied as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("Thanks: the moderators will look at your report."),
                )
                return redirect(_next_url(request, target))
        status = 400
    return render(
        request,
        "community/report.html",
        {
            "form": form,
            "target": target,
            "target_type": target_type,
            "next": _next_url(request, target),
        },
        status=status,
    )
