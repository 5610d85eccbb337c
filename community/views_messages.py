"""Pages for direct messages (the inbox, a thread) and the block button."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from community import messaging, selectors
from config.markdown import plain_text, render_markdown

THREADS_PER_PAGE = 30
MESSAGES_PER_PAGE = 50


class MessageForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=messaging.MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Markdown, at most 5000 characters."),
    )


def _public_user_or_404(username: str):
    person = selectors.user_get_public(username=username)
    if person is None:
        raise Http404
    return person


def _send(request, form: MessageForm, recipient) -> bool:
    """Send the form's message; on refusal, put the reason on the form."""
    try:
        messaging.message_send(
            sender=request.user, recipient=recipient, body=form.cleaned_data["body"]
        )
    except ValidationError as error:
        for field, reasons in error.message_dict.items():
            for reason in reasons:
                form.add_error("body" if field == "body" else None, reason)
        return False
    except PermissionDenied as error:
        form.add_error(None, str(error))
        return False
    return True


@login_required
@require_GET
def inbox(request):
    page = Paginator(messaging.thread_list(user=request.user), THREADS_PER_PAGE)
    page = page.get_page(request.GET.get("page"))
    for thread in page.object_list:
        thread.other_person = thread.other(request.user)
        thread.other_profile = selectors.profile_of(thread.other_person)
        thread.unread = thread.unread_for(request.user)
        thread.preview = (
            plain_text(thread.last_message.body, limit=140)
            if thread.last_message
            else ""
        )
    return render(request, "community/messages/inbox.html", {"page": page})


def _thread_context(request, thread, form=None) -> dict:
    other = thread.other(request.user)
    page = Paginator(messaging.message_list(thread=thread), MESSAGES_PER_PAGE)
    page = page.get_page(request.GET.get("page"))
    shown = list(page.object_list)
    for message in shown:
        message.body_html = render_markdown(message.body)
        message.is_mine = message.sender_id == request.user.pk
    return {
        "thread": thread,
        "other": other,
        "other_profile": selectors.profile_of(other),
        "page": page,
        # Oldest first on the page, as a conversation reads.
        "shown_messages": list(reversed(shown)),
        "form": form or MessageForm(),
        "refusal": messaging.send_refusal(sender=request.user, recipient=other),
    }


@login_required
@require_http_methods(["GET", "POST"])
def thread(request, thread_id: int):
    """A thread with its reply form; only its two people may open it."""
    found = messaging.thread_get_for_user(user=request.user, thread_id=thread_id)
    if found is None:
        raise Http404
    if request.method == "POST":
        form = MessageForm(request.POST)
        if form.is_valid() and _send(request, form, found.other(request.user)):
            return redirect(found.get_absolute_url())
        return render(
            request,
            "community/messages/thread.html",
            _thread_context(request, found, form),
            status=400,
        )
    messaging.thread_mark_read(thread=found, user=request.user)
    return render(
        request, "community/messages/thread.html", _thread_context(request, found)
    )


@login_required
@require_http_methods(["GET", "POST"])
def compose(request, username: str):
    """Write to someone: their thread with you if there is one, else a first
    message."""
    person = _public_user_or_404(username)
    if person.pk == request.user.pk:
        messages.error(request, _("You cannot message yourself."))
        return redirect("community:messages")
    existing = messaging.thread_between(user=request.user, other=person)
    if existing is not None and request.method == "GET":
        return redirect(existing.get_absolute_url())
    form = MessageForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and _send(request, form, person):
        sent = messaging.thread_between(user=request.user, other=person)
        return redirect(sent.get_absolute_url())
    context = {
        "other": person,
        "other_profile": selectors.profile_of(person),
        "form": form,
        "refusal": messaging.send_refusal(sender=request.user, recipient=person),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "community/messages/compose.html", context, status=status)


@login_required
@require_POST
def block_toggle(request, username: str):
    """Block or unblock (``action`` is "block" or "unblock"), then back to the
    person's profile."""
    person = _public_user_or_404(username)
    action = request.POST.get("action")
    if action == "block":
        try:
            messaging.block_create(blocker=request.user, blocked=person)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("You blocked %(username)s. Neither of you can message the other.")
                % {"username": person.username},
            )
    elif action == "unblock":
        messaging.block_delete(blocker=request.user, blocked=person)
        messages.success(
            request, _("You unblocked %(username)s.") % {"username": person.username}
        )
    else:
        messages.error(request, _("Choose to block or to unblock."))
    return redirect(person.get_absolute_url())
