"""Pages of the community app: home, profiles, and account settings."""

import re
from datetime import UTC, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from agents.selectors import run_list_mine
from community import messaging, selectors, services
from community.avatars import AVATAR_DIRECTORY
from community.forms import ApiKeyCreateForm, ProfileForm
from community.models import NotificationKind, Profile
from config.fragments import fragment, fragment_key
from config.markdown import plain_text, render_markdown

# An agent counts as new in the feed while its last change is its creation.
NEW_AGENT_WINDOW = timedelta(minutes=1)
# Avatars are stored re-encoded as WebP under a new name each time
# (services.profile_update): a plain file name, never a path or another type.
AVATAR_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]*\.webp")
# A name's bytes never change, so caches may keep them; a day bounds how long
# a replaced or removed avatar lingers in them.
AVATAR_MAX_AGE = 24 * 60 * 60
# The latest runs on a person's home page.
RECENT_RUNS_SHOWN = 5


@require_GET
def home(request):
    """The front page; for a signed-in person, their home: a greeting, the
    first steps still to take and their latest runs."""
    if not request.user.is_authenticated:
        return render(request, "home.html")
    checklist = selectors.home_checklist(user=request.user)
    return render(
        request,
        "home.html",
        {
            "checklist": checklist,
            "first_steps": _first_steps(checklist),
            "recent_runs": run_list_mine(user=request.user)[:RECENT_RUNS_SHOWN],
        },
    )


def _first_steps(checklist: selectors.HomeChecklist) -> list[dict]:
    """The checklist's steps in order, each linking to where it is done: the
    person's latest agent once they have one."""
    agent = checklist.agent_id
    create = reverse("agents:create")
    agent_page = reverse("agents:detail", args=[agent]) if agent else create
    return [
        {"label": _("Build an agent"), "done": checklist.built, "url": create},
        {"label": _("Run it"), "done": checklist.ran, "url": agent_page},
        {
            "label": _("Give it a file to search"),
            "done": checklist.gave_file,
            "url": agent_page if agent else reverse("files:list"),
        },
        {
            "label": _("Publish it for others"),
            "done": checklist.published,
            "url": reverse("agents:edit", args=[agent]) if agent else create,
        },
    ]


@require_safe
def avatar(request, name: str):
    """An avatar, to anyone, signed in or not, whatever DEBUG says. The only
    files with a route under MEDIA_URL: uploads are private and leave only
    through files:download."""
    if not AVATAR_NAME.fullmatch(name):
        raise Http404
    storage = Profile._meta.get_field("avatar").storage
    try:
        with storage.open(f"{AVATAR_DIRECTORY}/{name}", "rb") as image:
            data = image.read()
    except OSError:
        raise Http404 from None
    response = HttpResponse(data, content_type="image/webp")
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, public=True, max_age=AVATAR_MAX_AGE)
    return response


def _public_user_or_404(username: str):
    person = selectors.user_get_public(username=username)
    if person is None:
        raise Http404
    return person


def _follow_button_context(request, person) -> dict:
    profile = selectors.profile_of(person)
    return {
        "person": person,
        "profile": profile,
        "is_following": selectors.is_following(follower=request.user, followee=person),
        "can_follow": request.user.is_authenticated and request.user.pk != person.pk,
    }


@require_GET
def profile(request, username: str):
    person = _public_user_or_404(username)
    shown, stats = selectors.author_page(owner=person)
    context = _follow_button_context(request, person)
    bio = context["profile"].bio
    context.update(
        {
            # The same for every viewer, and markdown is the costly part of
            # the page: rendered once per bio, and the list once per set of
            # names and descriptions (config.fragments).
            "bio_html": fragment(
                fragment_key("bio", bio), lambda: render_markdown(bio)
            ),
            "agents_html": fragment(
                fragment_key(
                    "profile-agents",
                    person.username,
                    [(a.pk, a.slug, a.name, a.description) for a in shown],
                ),
                lambda: _published_agents_html(person, shown),
            ),
            "is_me": request.user.is_authenticated and request.user.pk == person.pk,
            "stats": stats,
            "has_blocked": messaging.has_blocked(blocker=request.user, blocked=person),
        }
    )
    return render(request, "community/profile.html", context)


def _published_agents_html(person, shown: list) -> str:
    for agent in shown:
        agent.summary = plain_text(agent.description, limit=160)
    return render_to_string(
        "community/partials/profile_agents.html",
        {
            "person": person,
            "agents": shown[: selectors.PROFILE_AGENTS_SHOWN],
            "more_agents": len(shown) > selectors.PROFILE_AGENTS_SHOWN,
        },
    )


@login_required
@require_POST
def follow_toggle(request, username: str):
    """Follow or unfollow (``action`` is "follow" or "unfollow"); htmx gets
    the button back, a plain form post goes back to the profile."""
    person = _public_user_or_404(username)
    action = request.POST.get("action")
    if action == "follow":
        try:
            services.follow_create(follower=request.user, followee=person)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    elif action == "unfollow":
        services.follow_delete(follower=request.user, followee=person)
    else:
        return render(
            request,
            "community/partials/follow_button.html",
            _follow_button_context(request, person),
            status=400,
        )
    person = selectors.user_get_public(username=username)
    if request.htmx:
        return render(
            request,
            "community/partials/follow_button.html",
            _follow_button_context(request, person),
        )
    return redirect(person.get_absolute_url())


@login_required
@require_GET
def feed(request):
    page = Paginator(selectors.feed_agents(user=request.user), 20).get_page(
        request.GET.get("page")
    )
    for agent in page.object_list:
        agent.summary = plain_text(agent.description, limit=160)
        agent.is_new = agent.updated_at - agent.created_at < NEW_AGENT_WINDOW
        agent.owner_name = selectors.profile_of(agent.owner).name
    return render(request, "community/feed.html", {"page": page})


def _email_kinds():
    return [(kind.value, kind.label) for kind in NotificationKind]


@login_required
@require_http_methods(["GET", "POST"])
def profile_settings(request):
    profile = selectors.profile_of(request.user)
    if request.method == "GET":
        initial = {
            "display_name": profile.display_name,
            "bio": profile.bio,
            **{
                f"email_{kind}": profile.wants_email(kind)
                for kind, _label in _email_kinds()
            },
        }
        for name, link in zip(ProfileForm.LINK_FIELDS, profile.links, strict=False):
            initial[name] = link
        form = ProfileForm(initial=initial, kinds=_email_kinds())
        return render(
            request,
            "community/profile_settings.html",
            {"form": form, "profile": profile},
        )

    form = ProfileForm(request.POST, request.FILES, kinds=_email_kinds())
    if form.is_valid():
        data = form.cleaned_data
        # Each link on its own first, so an error sits next to the right box.
        for name in ProfileForm.LINK_FIELDS:
            try:
                services.links_clean([data[name]])
            except ValidationError as error:
                for message in error.message_dict["links"]:
                    form.add_error(name, message)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.profile_update(
                user=request.user,
                display_name=data["display_name"],
                bio=data["bio"],
                links=[data[name] for name in ProfileForm.LINK_FIELDS],
                email_preferences={
                    kind: data[f"email_{kind}"] for kind, _label in _email_kinds()
                },
                avatar=data["avatar"] or None,
                remove_avatar=data["remove_avatar"],
            )
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("community:profile_settings")
    return render(
        request,
        "community/profile_settings.html",
        {"form": form, "profile": profile},
        status=400,
    )


@login_required
@require_GET
def notifications(request):
    page = Paginator(selectors.notification_list(user=request.user), 30).get_page(
        request.GET.get("page")
    )
    return render(request, "community/notifications.html", {"page": page})


@login_required
@require_GET
def notification_open(request, notification_id: int):
    """Mark a notification read and go where it points."""
    notification = selectors.notification_get_for_user(
        user=request.user, notification_id=notification_id
    )
    if notification is None:
        raise Http404
    services.notification_mark_read(notification=notification)
    return redirect(notification.url or "community:notifications")


@login_required
@require_POST
def notifications_read_all(request):
    services.notification_mark_all_read(user=request.user)
    if request.htmx:
        page = Paginator(selectors.notification_list(user=request.user), 30).get_page(1)
        return render(
            request, "community/partials/notification_list.html", {"page": page}
        )
    return redirect("community:notifications")


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
