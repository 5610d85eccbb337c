"""Pages of the community app: home, profiles, and account settings."""

from datetime import UTC, datetime, time

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from community import selectors, services
from community.forms import ApiKeyCreateForm
from community.models import User


@require_GET
def home(request):
    return render(request, "home.html")


@require_GET
def profile(request, username: str):
    profile_user = get_object_or_404(User, username__iexact=username, is_active=True)
    return render(
        request,
        "coming_soon.html",
        {
            "page_title": profile_user.username,
            "description": "Public profiles arrive with the community features.",
        },
    )


def _api_keys_context(request, *, form=None, new_key: str | None = None) -> dict:
    return {
        "api_keys": selectors.api_key_list_for_user(user=request.user),
        "form": form or ApiKeyCreateForm(),
        "new_key": new_key,
    }


def _render_api_keys(request, context: dict, status: int = 200):
    # htmx swaps only the list; a plain form post gets the whole page.
    template = (
        "community/partials/api_key_list.html"
        if request.htmx
        else "community/api_keys.html"
    )
    return render(request, template, context, status=status)


@login_required
@require_GET
def api_keys(request):
    return render(request, "community/api_keys.html", _api_keys_context(request))


@login_required
@require_POST
def api_key_create(request):
    form = ApiKeyCreateForm(request.POST)
    if form.is_valid():
        expires_on = form.cleaned_data["expires_at"]
        expires = (
            datetime.combine(expires_on, time.min, tzinfo=UTC) if expires_on else None
        )
        try:
            _, secret = services.api_key_create(
                user=request.user, name=form.cleaned_data["name"], expires_at=expires
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                for message in messages:
                    form.add_error(field, message)
        else:
            return _render_api_keys(request, _api_keys_context(request, new_key=secret))
    # With htmx the form sits outside the swapped list: re-render the whole page
    # so its errors show (retargeted to <body>).
    response = render(
        request,
        "community/api_keys.html",
        _api_keys_context(request, form=form),
        status=400,
    )
    if request.htmx:
        response["HX-Retarget"] = "body"
        response["HX-Reswap"] = "innerHTML"
        response.status_code = 200
    return response


@login_required
@require_POST
def api_key_revoke(request, prefix: str):
    api_key = selectors.api_key_get_for_user(user=request.user, prefix=prefix)
    if api_key is None:
        raise Http404
    services.api_key_revoke(api_key=api_key)
    return _render_api_keys(request, _api_keys_context(request))
