"""Who may reach what: every route, every websocket, four kinds of visitor.

The table below names every URL pattern the site resolves (walked from the
root resolver, so a new endpoint without a rule fails
``test_it_has_a_rule_for_every_route``) and says what a GET returns to an
anonymous visitor, a stranger (another signed-in person), the owner of the
object in the path, and staff. Every unsafe method a route answers is also
sent by the anonymous visitor and the stranger, who must be refused without
any of the owner's rows changing.

All requests run against one fixture world, built once for the module in a
transaction that is rolled back at the end; each test runs in its own
savepoint inside it, so a write that gets through is undone afterwards.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import ForeignKey
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

# ---------------------------------------------------------------------------
# Outcomes. A GET rule lists four outcomes: anonymous, stranger, owner, staff.
# ---------------------------------------------------------------------------

ACTORS = ("anonymous", "stranger", "owner", "staff")

# A redirect to the sign-in page (pages) or to the admin's (admin pages).
LOGIN = "login"
ADMIN_LOGIN = "admin-login"
# Any redirect not to a sign-in page.
REDIRECT = "redirect"


@dataclass(frozen=True)
class Rule:
    """What a route answers.

    ``get``: the GET outcome for each of ACTORS, space-separated ("login 404
    200 200"); an outcome is a status code, LOGIN, ADMIN_LOGIN, REDIRECT, or
    several joined by "|" where the code allows either.
    ``writes``: who the unsafe methods are for. "owner" (the default): they
    change the object in the path, so the anonymous visitor and the stranger
    are refused. "self": they act on the signed-in person's own account (or
    create something of theirs), so the stranger may succeed, but still
    changes nothing of the owner's. "public": anyone may post (sign-up
    forms, Stripe's webhooks); nothing of the owner's changes.
    ``unavailable``: the route may answer 503 when something it depends on is
    not set up here (a worker, Stripe); any other 5xx fails.
    ``known_failure``: staff's GET is a known server error in a third-party
    page; the test is expected to fail (strictly: it says when it is fixed).
    ``refused``: how the stranger is refused a write, when not by a status
    (some pages redirect back with a message).
    ``kwargs``: path parameters, by name, as attributes of the world, where
    the defaults (PARAMETERS) do not fit; ``query``: a query string to add.
    ``why``: the reason, where the rule is not what one would guess.
    """

    get: str
    writes: str = "owner"
    refused: str = "403|404|405"
    unavailable: bool = False
    known_failure: bool = False
    kwargs: dict = field(default_factory=dict)
    query: str = ""
    why: str = ""


# ---------------------------------------------------------------------------
# The table.
# ---------------------------------------------------------------------------

RULES: dict[str, Rule] = {
    # Pages and htmx partials: the sign-in page for anonymous visitors, 404
    # for what a stranger may not see.
    "": Rule("200 200 200 200"),
    "health": Rule(
        "200|503 200|503 200|503 200|503",
        unavailable=True,
        why="503 names a dependency that is down (no worker runs in tests)",
    ),
    "metrics": Rule(
        "404 404 404 404",
        why="only for a scraper with METRICS_TOKEN or from METRICS_ALLOWED_NETWORKS "
        "(tests/config/test_metrics.py); no person, staff included, reads it",
    ),
    "discover/": Rule("200 200 200 200"),
    "u/<str:username>/<slug:slug>/": Rule("404 404 200 200"),
    "agents/<int:agent_id>/fork/": Rule("login 405 405 405"),
    "agents/<int:agent_id>/fork-changes/": Rule(
        "404 404 200 200",
        kwargs={"agent_id": "fork.pk"},
        why="anonymous visitors get 404, not the sign-in page",
    ),
    "agents/": Rule("200 200 200 200"),
    "agents/new/": Rule("login 200 200 200", writes="self"),
    "agents/import/": Rule("login 405 405 405", writes="self"),
    "agents/validate/": Rule("login 405 405 405"),
    "agents/<int:agent_id>/": Rule("login 404 200 200"),
    "agents/<int:agent_id>/edit/": Rule("login 404 200 403"),
    "agents/<int:agent_id>/delete/": Rule("login 405 405 405"),
    "agents/<int:agent_id>/run/": Rule("login 405 405 405"),
    "agents/<int:agent_id>/versions/diff/": Rule("login 404 200 200", query="a=1&b=2"),
    "settings/provider-keys/": Rule("login 200 200 200", writes="self"),
    "settings/provider-keys/<int:key_id>/test/": Rule("login 405 405 405"),
    "settings/provider-keys/<int:key_id>/delete/": Rule("login 405 405 405"),
    "conversations/": Rule("login 200 200 200"),
    "conversations/<int:conversation_id>/": Rule("login 404 200 200"),
    "conversations/<int:conversation_id>/continue/": Rule("login 405 405 405"),
    "conversations/<int:conversation_id>/rename/": Rule("login 405 405 405"),
    "conversations/<int:conversation_id>/delete/": Rule("login 405 405 405"),
    "tools/": Rule("login 200 200 200"),
    "tools/new/": Rule("login 200 200 200", writes="self"),
    "tools/<int:tool_id>/edit/": Rule("login 404 200 404"),
    "tools/<int:tool_id>/delete/": Rule("login 405 405 405"),
    "tools/<str:name>/toggle/": Rule("login 405 405 405"),
    "playground/": Rule("login 200 200 200", writes="self"),
    "playground/save/": Rule("login 405 405 405", writes="self"),
    "runs/": Rule("200 200 200 200"),
    "runs/delete/": Rule(
        "login 405 405 405",
        writes="self",
        why="deletes only the signed-in person's runs of those ticked",
    ),
    "runs/<int:run_id>/": Rule("login 404 200 200"),
    "runs/<int:run_id>/cancel/": Rule("login 405 405 405"),
    "runs/<int:run_id>/delete/": Rule("login 405 405 405"),
    "runs/<int:run_id>/share/": Rule("login 404 200 404"),
    "r/<slug:token>/": Rule("200 200 200 200"),
    "workflows/": Rule(
        "200 200 200 200",
        writes="public",
        why="a list page that answers any method alike",
    ),
    "workflows/new/": Rule("login 200 200 200", writes="self"),
    "workflows/<int:workflow_id>/": Rule("404 404 200 404"),
    "workflows/<int:workflow_id>/edit/": Rule("login 404 200 404"),
    "workflows/<int:workflow_id>/run/": Rule("login 405 405 405"),
    "workflows/<int:workflow_id>/fork/": Rule("login 405 405 405"),
    "workflows/runs/<int:run_id>/approval/": Rule(
        "login 405 405 405", kwargs={"run_id": "workflow_run.pk"}
    ),
    "workflows/runs/<int:run_id>/resume/": Rule(
        "login 405 405 405", kwargs={"run_id": "workflow_run.pk"}
    ),
    "agents/<int:agent_id>/handoffs/": Rule("login 404 200 404"),
    "files/": Rule(
        "200 200 200 200",
        writes="public",
        why="a list page that answers any method alike",
    ),
    "files/upload/": Rule("login 405 405 405", writes="self"),
    "files/search/": Rule(
        "login 200 200 200",
        writes="self",
        why="searches the signed-in person's own files",
    ),
    "files/<int:file_id>/": Rule("login 404 200 404"),
    "files/<int:file_id>/download/": Rule(
        "login 404 200 404", why="the bytes are the owner's alone, staff included"
    ),
    "files/<int:file_id>/reingest/": Rule("login 405 405 405"),
    "files/<int:file_id>/delete/": Rule("login 405 405 405"),
    "files/<int:file_id>/preview/": Rule("login 405 405 405"),
    "files/<int:file_id>/collection/": Rule("login 405 405 405"),
    "files/collections/": Rule("login 405 405 405", writes="self"),
    "files/collections/<int:collection_id>/delete/": Rule("login 405 405 405"),
    "agents/<int:agent_id>/files/": Rule("login 404 200 404"),
    "credits/": Rule("200 200 200 200"),
    "credits/checkout/": Rule("login 405 405 405", writes="self"),
    "credits/checkout/success/": Rule("login 200 200 200"),
    "credits/checkout/cancelled/": Rule("login 200 200 200"),
    "credits/portal/": Rule("login 405 405 405", writes="self"),
    "credits/threshold/": Rule(
        "405 405 405 405",
        writes="self",
        why="POST only, so a GET is refused before sign-in is asked",
    ),
    "credits/redeem/": Rule(
        "405 405 405 405",
        writes="self",
        why="POST only, so a GET is refused before sign-in is asked",
    ),
    "settings/api-keys/": Rule("login 200 200 200"),
    "settings/api-keys/new/": Rule("login 405 405 405", writes="self"),
    "settings/api-keys/<str:prefix>/revoke/": Rule("login 405 405 405"),
    "settings/profile/": Rule("login 200 200 200", writes="self"),
    # The signed-in person's own account (export, deletion).
    "settings/account/": Rule("login 200 200 200"),
    "settings/account/export/": Rule("login 200 200 200"),
    "settings/account/delete/": Rule(
        "login 405 405 405", writes="self", why="needs the person's own password"
    ),
    "u/<str:username>/": Rule("200 200 200 200"),
    "people/<str:username>/follow/": Rule(
        "login 405 405 405", writes="self", why="follows the person in the path; public"
    ),
    "people/<str:username>/block/": Rule(
        "login 405 405 405", writes="self", why="blocks the person in the path; public"
    ),
    "feed/": Rule("login 200 200 200"),
    "report/<str:target_type>/<int:target_id>/": Rule("login 404 200 404"),
    "messages/": Rule("login 200 200 200"),
    "messages/with/<str:username>/": Rule(
        "login 200 redirect 200",
        writes="self",
        why="writes to the person in the path; not to oneself",
    ),
    "messages/<int:thread_id>/": Rule("login 404 200 404"),
    "agents/<int:agent_id>/rate/": Rule("login 405 405 405"),
    "agents/<int:agent_id>/comment/": Rule("login 405 405 405"),
    "agents/<int:agent_id>/react/": Rule("login 405 405 405"),
    "workflows/<int:workflow_id>/rate/": Rule("login 405 405 405"),
    "workflows/<int:workflow_id>/comment/": Rule("login 405 405 405"),
    "workflows/<int:workflow_id>/react/": Rule("login 405 405 405"),
    "comments/<int:comment_id>/edit/": Rule(
        "login 405 405 405",
        refused="redirect",
        why="refused with a message on the page it came from",
    ),
    "comments/<int:comment_id>/delete/": Rule(
        "login 405 405 405",
        refused="redirect",
        why="refused with a message on the page it came from",
    ),
    "comments/<int:comment_id>/hide/": Rule(
        "login 405 405 405",
        refused="redirect",
        why="refused with a message on the page it came from",
    ),
    "comments/<int:comment_id>/react/": Rule(
        "login 405 405 405",
        writes="self",
        why="anyone signed in reacts to a public comment",
    ),
    "notifications/": Rule("login 200 200 200"),
    "notifications/read-all/": Rule("login 405 405 405", writes="self"),
    "notifications/<int:notification_id>/": Rule("login 404 redirect 404"),
    # allauth's pages: sign-in and sign-up forms are public, account pages the
    # signed-in person's own.
    "accounts/login/": Rule("200 redirect redirect redirect", writes="public"),
    "accounts/logout/": Rule("redirect 200 200 200", writes="public"),
    "accounts/inactive/": Rule("200 200 200 200"),
    "accounts/signup/": Rule("200 redirect redirect redirect", writes="public"),
    "accounts/reauthenticate/": Rule("login 200 200 200", writes="self"),
    "accounts/email/": Rule("login 200 200 200", writes="self"),
    "accounts/confirm-email/": Rule("200 200 200 200"),
    "accounts/password/change/": Rule("login 200 200 200", writes="self"),
    "accounts/password/set/": Rule("login redirect redirect redirect", writes="self"),
    "accounts/password/reset/": Rule("200 200 200 200", writes="public"),
    "accounts/login/code/confirm/": Rule(
        "login redirect redirect redirect", writes="public"
    ),
    r"accounts/^confirm-email/(?P<key>[-:\w]+)/$": Rule("200 200 200 200"),
    "accounts/password/reset/key/done/": Rule("200 200 200 200"),
    r"accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": Rule(
        "200 200 200 200", writes="public"
    ),
    "accounts/password/reset/done/": Rule("200 200 200 200"),
    "accounts/3rdparty/login/cancelled/": Rule("200 200 200 200"),
    "accounts/3rdparty/login/error/": Rule("401 401 401 401"),
    "accounts/3rdparty/signup/": Rule(
        "login login login login", writes="public", why="only during a social sign-up"
    ),
    "accounts/3rdparty/": Rule("login 200 200 200", writes="self"),
    "accounts/social/login/cancelled/": Rule(
        "redirect redirect redirect redirect", writes="public"
    ),
    "accounts/social/login/error/": Rule(
        "redirect redirect redirect redirect", writes="public"
    ),
    "accounts/social/signup/": Rule(
        "redirect redirect redirect redirect", writes="public"
    ),
    "accounts/social/connections/": Rule(
        "redirect redirect redirect redirect", writes="public"
    ),
    "accounts/github/login/": Rule(
        "404 404 404 404", writes="public", why="no keys set for the provider"
    ),
    "accounts/github/login/callback/": Rule(
        "404 404 404 404", writes="public", why="no keys set for the provider"
    ),
    "accounts/google/login/": Rule(
        "404 404 404 404", writes="public", why="no keys set for the provider"
    ),
    "accounts/google/login/callback/": Rule(
        "404 404 404 404", writes="public", why="no keys set for the provider"
    ),
    "accounts/google/login/token/": Rule(
        "404 404 404 404", writes="public", why="no keys set for the provider"
    ),
    # allauth's headless API: anyone may post to it; a step out of turn is a
    # 409, a missing session a 401.
    "_allauth/browser/v1/config": Rule("200 200 200 200"),
    "_allauth/browser/v1/auth/session": Rule("401 200 200 200", writes="public"),
    "_allauth/browser/v1/auth/reauthenticate": Rule("401 405 405 405", writes="public"),
    "_allauth/browser/v1/auth/code/confirm": Rule("409 409 409 409", writes="public"),
    "_allauth/browser/v1/auth/password/request": Rule(
        "405 405 405 405", writes="public"
    ),
    "_allauth/browser/v1/auth/password/reset": Rule("400 400 400 400", writes="public"),
    "_allauth/browser/v1/auth/login": Rule("405 405 405 405", writes="public"),
    "_allauth/browser/v1/auth/signup": Rule("405 405 405 405", writes="public"),
    "_allauth/browser/v1/auth/email/verify": Rule("400 400 400 400", writes="public"),
    "_allauth/browser/v1/auth/email/verify/resend": Rule(
        "405 405 405 405", writes="public"
    ),
    "_allauth/browser/v1/auth/phone/verify": Rule("409 409 409 409", writes="public"),
    "_allauth/browser/v1/auth/phone/verify/resend": Rule(
        "405 405 405 405", writes="public"
    ),
    "_allauth/browser/v1/account/password/change": Rule(
        "401 405 405 405", writes="public"
    ),
    "_allauth/browser/v1/account/email": Rule("401 200 200 200", writes="public"),
    "_allauth/browser/v1/account/phone": Rule(
        "401 200 200 200",
        writes="public",
        why="phone numbers are not used: an empty list",
    ),
    "_allauth/browser/v1/account/providers": Rule("401 200 200 200", writes="public"),
    "_allauth/browser/v1/auth/provider/signup": Rule(
        "409 409 409 409", writes="public"
    ),
    "_allauth/browser/v1/auth/provider/redirect": Rule(
        "405 405 405 405", writes="public"
    ),
    "_allauth/browser/v1/auth/provider/token": Rule("405 405 405 405", writes="public"),
    "_allauth/app/v1/config": Rule("200 200 200 200"),
    "_allauth/app/v1/auth/session": Rule("401 401 401 401", writes="public"),
    "_allauth/app/v1/auth/reauthenticate": Rule("401 401 401 401", writes="public"),
    "_allauth/app/v1/auth/code/confirm": Rule("409 409 409 409", writes="public"),
    "_allauth/app/v1/auth/password/request": Rule("405 405 405 405", writes="public"),
    "_allauth/app/v1/auth/password/reset": Rule("400 400 400 400", writes="public"),
    "_allauth/app/v1/auth/login": Rule("405 405 405 405", writes="public"),
    "_allauth/app/v1/auth/signup": Rule("405 405 405 405", writes="public"),
    "_allauth/app/v1/auth/email/verify": Rule("400 400 400 400", writes="public"),
    "_allauth/app/v1/auth/email/verify/resend": Rule(
        "405 405 405 405", writes="public"
    ),
    "_allauth/app/v1/auth/phone/verify": Rule("409 409 409 409", writes="public"),
    "_allauth/app/v1/auth/phone/verify/resend": Rule(
        "405 405 405 405", writes="public"
    ),
    "_allauth/app/v1/account/password/change": Rule("401 401 401 401", writes="public"),
    "_allauth/app/v1/account/email": Rule("401 401 401 401", writes="public"),
    "_allauth/app/v1/account/phone": Rule("401 401 401 401", writes="public"),
    "_allauth/app/v1/account/providers": Rule("401 401 401 401", writes="public"),
    "_allauth/app/v1/auth/provider/signup": Rule("409 409 409 409", writes="public"),
    "_allauth/app/v1/auth/provider/redirect": Rule("405 405 405 405", writes="public"),
    "_allauth/app/v1/auth/provider/token": Rule("405 405 405 405", writes="public"),
    "_allauth/app/v1/tokens/refresh": Rule("405 405 405 405", writes="public"),
    # The API: 401 without credentials, 404 for what is not yours.
    "api/v1/me/": Rule("401 200 200 200"),
    "api/v1/tokens/": Rule("401 200 200 200", writes="self"),
    "api/v1/tokens/<str:prefix>/": Rule("401 404 200 404"),
    "api/v1/users/me/profile/": Rule("401 200 200 200", writes="self"),
    "api/v1/account/export/": Rule("401 200 200 200"),
    "api/v1/account/delete/": Rule("401 405 405 405", writes="self"),
    "api/v1/users/me/blocked/": Rule("401 200 200 200"),
    "api/v1/users/<public_username:username>/block/": Rule(
        "401 405 405 405", writes="self", why="blocks the person in the path"
    ),
    "api/v1/messages/threads/": Rule("401 200 200 200", writes="self"),
    "api/v1/messages/threads/<int:thread_id>/": Rule("401 404 200 404"),
    "api/v1/messages/threads/<int:thread_id>/messages/": Rule("401 405 405 405"),
    "api/v1/messages/unread/": Rule("401 200 200 200"),
    "api/v1/users/<public_username:username>/": Rule("200 200 200 200"),
    "api/v1/users/<public_username:username>/follow/": Rule(
        "401 405 405 405", writes="self", why="follows the person in the path"
    ),
    "api/v1/users/<public_username:username>/followers/": Rule("200 200 200 200"),
    "api/v1/users/<public_username:username>/following/": Rule("200 200 200 200"),
    "api/v1/feed/": Rule("401 200 200 200"),
    "api/v1/agents/<int:agent_id>/ratings/": Rule("404 404 200 200"),
    "api/v1/agents/<int:agent_id>/comments/": Rule("404 404 200 200"),
    "api/v1/agents/<int:agent_id>/reactions/": Rule("401 405 405 405"),
    "api/v1/workflows/<int:workflow_id>/ratings/": Rule("404 404 200 404"),
    "api/v1/workflows/<int:workflow_id>/comments/": Rule("404 404 200 404"),
    "api/v1/workflows/<int:workflow_id>/reactions/": Rule("401 405 405 405"),
    "api/v1/comments/<int:comment_id>/": Rule("401 405 405 405"),
    "api/v1/comments/<int:comment_id>/hide/": Rule("401 405 405 405"),
    "api/v1/comments/<int:comment_id>/reactions/": Rule(
        "401 405 405 405", writes="self"
    ),
    "api/v1/reports/": Rule("401 200 200 200", writes="self"),
    "api/v1/notifications/": Rule("401 200 200 200"),
    "api/v1/notifications/read-all/": Rule("401 405 405 405", writes="self"),
    "api/v1/notifications/<int:notification_id>/read/": Rule("401 405 405 405"),
    "api/v1/agents/": Rule("401 200 200 200", writes="self"),
    "api/v1/agents/import/": Rule("401 405 405 405", writes="self"),
    "api/v1/agents/<int:agent_id>/": Rule("401 404 200 200"),
    "api/v1/agents/<int:agent_id>/export/": Rule("401 404 200 200"),
    "api/v1/agents/<int:agent_id>/export/python/": Rule("401 404 200 200"),
    "api/v1/agents/<int:agent_id>/versions/": Rule("401 404 200 200"),
    "api/v1/agents/<int:agent_id>/versions/<int:number>/": Rule("401 404 200 200"),
    "api/v1/agents/<int:agent_id>/run/": Rule("401 405 405 405"),
    "api/v1/agents/<int:agent_id>/clone/": Rule("401 405 405 405"),
    "api/v1/community/agents/": Rule("200 200 200 200"),
    "api/v1/agents/<int:agent_id>/estimate/": Rule("401 405 405 405"),
    "api/v1/playground/runs/": Rule("401 405 405 405", writes="self"),
    "api/v1/playground/save/": Rule("401 405 405 405", writes="self"),
    "api/v1/runs/": Rule("401 200 200 200"),
    "api/v1/runs/<int:run_id>/": Rule("401 404 200 200"),
    "api/v1/runs/<int:run_id>/cancel/": Rule("401 405 405 405"),
    "api/v1/runs/<int:run_id>/share/": Rule("401 405 405 405"),
    "api/v1/conversations/": Rule("401 200 200 200"),
    "api/v1/conversations/<int:conversation_id>/": Rule("401 404 200 200"),
    "api/v1/models/": Rule("401 200 200 200"),
    "api/v1/models/providers/": Rule("401 200 200 200"),
    "api/v1/models/providers/<str:provider_id>/models/": Rule("401 200 200 200"),
    "api/v1/models/providers/<str:provider_id>/capabilities/": Rule("401 200 200 200"),
    "api/v1/tools/": Rule("401 200 200 200", writes="self"),
    "api/v1/tools/<int:tool_id>/": Rule("401 404 200 404"),
    "api/v1/agents/<int:agent_id>/tools/": Rule("401 404 200 200"),
    "api/v1/users/api-keys/": Rule("401 200 200 200", writes="self"),
    "api/v1/users/api-keys/<int:key_id>/": Rule("401 404 200 404"),
    "api/v1/users/api-keys/<int:key_id>/test/": Rule("401 405 405 405"),
    "api/v1/credits/balance/": Rule("401 200 200 200", writes="self"),
    "api/v1/credits/history/": Rule("401 200 200 200"),
    "api/v1/credits/usage/": Rule("401 200 200 200"),
    "api/v1/credits/redeem/": Rule("401 405 405 405", writes="self"),
    "api/v1/pricing/": Rule("200 200 200 200"),
    "api/v1/credits/purchase/": Rule("401 405 405 405", writes="self"),
    "api/v1/payments/create-checkout-session/": Rule("401 405 405 405", writes="self"),
    "api/v1/payments/portal/": Rule(
        "401 405 405 405",
        writes="self",
        unavailable=True,
        why="503 when payments are not set up (documented)",
    ),
    "api/v1/payments/subscription/": Rule("401 200 200 200"),
    "api/v1/payments/purchases/": Rule("401 200 200 200"),
    "api/v1/files/": Rule("401 200 200 200"),
    "api/v1/files/upload/": Rule("401 405 405 405", writes="self"),
    "api/v1/files/search/": Rule("401 405 405 405", writes="self"),
    "api/v1/files/preview/": Rule("401 405 405 405", writes="self"),
    "api/v1/files/collections/": Rule("401 200 200 200", writes="self"),
    "api/v1/files/collections/<int:collection_id>/": Rule("401 404 200 404"),
    "api/v1/files/<int:file_id>/": Rule("401 404 200 404"),
    "api/v1/files/<int:file_id>/download/": Rule(
        "401 404 200 404", why="the bytes are the owner's alone, staff included"
    ),
    "api/v1/files/<int:file_id>/preview/": Rule("401 405 405 405"),
    "api/v1/files/<int:file_id>/reingest/": Rule("401 405 405 405"),
    "api/v1/agents/<int:agent_id>/files/": Rule("401 404 200 404"),
    "api/v1/agents/<int:agent_id>/files/<int:file_id>/": Rule("401 405 405 405"),
    "api/v1/agents/<int:agent_id>/files/collections/<int:collection_id>/": Rule(
        "401 405 405 405"
    ),
    "api/v1/workflows/": Rule("401 200 200 200", writes="self"),
    "api/v1/workflows/discover/": Rule("200 200 200 200"),
    "api/v1/workflows/<int:workflow_id>/fork/": Rule("401 405 405 405"),
    "api/v1/workflows/validate/": Rule("401 405 405 405", writes="self"),
    "api/v1/workflows/<int:workflow_id>/": Rule("401 404 200 404"),
    "api/v1/workflows/<int:workflow_id>/run/": Rule("401 405 405 405"),
    "api/v1/runs/<int:run_id>/approval/": Rule(
        "401 405 405 405", kwargs={"run_id": "workflow_run.pk"}
    ),
    "api/v1/runs/<int:run_id>/resume/": Rule(
        "401 405 405 405", kwargs={"run_id": "workflow_run.pk"}
    ),
    "api/v1/agents/<int:agent_id>/handoffs/": Rule("401 404 200 404"),
    "api/v1/agents/<int:agent_id>/handoffs/<int:handoff_id>/": Rule("401 404 200 404"),
    "api/schema/": Rule("200 200 200 200"),
    "api/docs/": Rule("200 200 200 200"),
    "media/avatars/<str:name>": Rule(
        "200 200 200 200",
        kwargs={"name": "avatar_name"},
        why="avatars are public; nothing else under MEDIA_URL has a route "
        "(tests/config/test_media.py)",
    ),
    "stripe/webhook/<uuid:uuid>/": Rule(
        "405 405 405 405",
        writes="public",
        why="Stripe posts here; a bad signature is a 400",
    ),
    # The admin's own sign-in and sign-out.
    "admin/login/": Rule(
        "login 403 403 redirect",
        writes="public",
        why="staff sign in on the site's sign-in page (allauth's secure_admin_login)",
    ),
    "admin/logout/": Rule(
        "redirect redirect redirect 405",
        writes="public",
        why="signing out is a POST; anyone may sign themselves out",
    ),
}

# Route prefixes that are treated as one group, with one rule for every route
# under them (checked after RULES: an exact entry wins).
GROUP_RULES: dict[str | re.Pattern, Rule] = {
    # dj-stripe's confirmation page for its admin actions is only ever posted
    # to; a GET renders it without the action and fails (a 500, for staff
    # only). dj-stripe's, not patched here.
    re.compile(r"admin/djstripe/\w+/action/<str:action_name>/<str:model_name>/$"): Rule(
        "admin-login admin-login admin-login 500", known_failure=True
    ),
    # Django's admin: staff only; what staff see there is Django's business
    # (a page, a redirect for a missing object, 403 where an admin forbids
    # adding or deleting), but never a server error.
    "admin/": Rule("admin-login admin-login admin-login 200|redirect|403|404"),
}


# ---------------------------------------------------------------------------
# Routes.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    pattern: str  # the full route, e.g. "agents/<int:agent_id>/"
    qualified_name: str | None  # "agents:detail", for reverse()
    callback: object

    @property
    def parameters(self) -> list[str]:
        found = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", self.pattern)
        return [route_name or regex_name for route_name, regex_name in found]

    @property
    def unsafe_methods(self) -> list[str]:
        view_class = getattr(self.callback, "view_class", None) or getattr(
            self.callback, "cls", None
        )
        if view_class is not None:
            return [
                method.upper()
                for method in ("post", "put", "patch", "delete")
                if hasattr(view_class, method)
            ]
        # A function view: its methods are not declared anywhere to read.
        return ["POST"]


def _walk(patterns, prefix="", namespaces=()):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name)) if entry.name else None
            yield Route(prefix + str(entry.pattern), name, entry.callback)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def rule_for(route: Route) -> Rule | None:
    if route.pattern in RULES:
        return RULES[route.pattern]
    for key, rule in GROUP_RULES.items():
        if isinstance(key, re.Pattern):
            if key.match(route.pattern):
                return rule
        elif route.pattern.startswith(key):
            return rule
    return None


ROUTES = all_routes()


# ---------------------------------------------------------------------------
# The world: one private object of each kind, owned by the owner.
# ---------------------------------------------------------------------------


def finish(*runs) -> None:
    """End runs as a worker would, without running them."""
    from agents.models import Run, RunStatus

    now = timezone.now()
    Run.objects.filter(pk__in=[run.pk for run in runs]).update(
        status=RunStatus.COMPLETED,
        final_output="Forty-five.",
        started_at=now,
        finished_at=now,
    )
    for run in runs:
        run.refresh_from_db()


def build_world() -> SimpleNamespace:
    from djstripe.models import WebhookEndpoint

    from agents import services as agent_services
    from agents.services.handoffs import handoff_create
    from agents.services.sharing import run_share
    from agents.services.steps import run_step_save
    from billing.models import Purchase
    from community import messaging, reviews
    from community.models import NotificationKind
    from community.moderation import report_create
    from community.services import api_key_create, notify, profile_update
    from files import services as file_services
    from tests.agents.factories import make_agent, make_run
    from tests.community.factories import UserFactory
    from tests.community.images import upload
    from tests.files.factories import add_file
    from workflows.runs import workflow_run_start
    from workflows.services import workflow_create

    world = SimpleNamespace()
    world.owner = UserFactory(username="owner")
    world.stranger = UserFactory(username="stranger")
    world.staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    # Someone with public things for the owner to comment on and write to.
    world.publisher = UserFactory(username="publisher")
    owner = world.owner

    world.agent = make_agent(owner, name="Secret agent", visibility="private")
    world.version = world.agent.versions.get()
    agent_services.agent_update(
        agent=world.agent, user=owner, data={"description": "Second version"}
    )
    world.helper = make_agent(owner, name="Secret helper", visibility="private")
    world.handoff = handoff_create(
        agent=world.agent, user=owner, target_id=world.helper.pk
    )
    world.run = make_run(world.agent, input="the private question")
    run_step_save(
        run=world.run,
        order=world.run.steps.count() + 1,
        type="agent-response",
        payload={"text": "private answer"},
    )
    world.conversation = world.run.conversation
    # Sharing a run makes it public by design, so it is another agent's.
    shared = make_run(make_agent(owner, name="Shared agent"), input="shared one")
    finish(world.run, shared)
    world.shared_run = run_share(run=shared, user=owner)
    world.custom_tool = agent_services.custom_tool_save(
        owner=owner,
        data={
            "name": "forecast",
            "description": "The weather forecast for a city.",
            "parameters": {"type": "object", "properties": {}},
            "webhook_url": "https://hooks.owner-private.example/forecast",
        },
    )
    world.provider_key = agent_services.provider_key_save(
        owner=owner, provider="openai", key="sk-private-owner-key-1234"
    )
    world.collection = file_services.collection_create(owner=owner, name="Private")
    world.file = add_file(
        owner, "notes.md", "# Notes\n\nThe private launch codes.", collection=None
    )
    file_services.attachment_add(agent=world.agent, user=owner, file_id=world.file.pk)
    file_services.attachment_add(
        agent=world.agent, user=owner, collection_id=world.collection.pk
    )
    world.workflow = workflow_create(
        owner=owner,
        data={
            "name": "Private flow",
            "graph": {
                "entry": "a",
                "nodes": [{"id": "a", "kind": "agent", "agent": world.agent.pk}],
                "edges": [],
            },
        },
    )
    world.workflow_run = workflow_run_start(
        workflow=world.workflow, user=owner, input="private flow input"
    )
    world.public_agent = make_agent(
        world.publisher, name="Public helper", visibility="public"
    )
    world.fork, _ = agent_services.agent_fork(agent=world.public_agent, user=owner)
    world.comment = reviews.comment_create(
        agent=world.public_agent, user=owner, body="The owner's comment"
    )
    world.message = messaging.message_send(
        sender=owner, recipient=world.publisher, body="A private message"
    )
    world.thread = world.message.thread
    world.notification = notify(
        recipient=owner,
        kind=NotificationKind.FOLLOW,
        actor=world.publisher,
        text="Someone followed you.",
    )
    world.api_key, world.api_secret = api_key_create(user=owner, name="script")
    # The publisher's: a follow of the owner by the stranger changes the
    # owner's profile (its counts), which the write checks would take for harm.
    avatar = profile_update(user=world.publisher, avatar=upload()).avatar
    world.avatar_name = avatar.name.rsplit("/", 1)[-1]
    world.report = report_create(
        reporter=owner,
        target_type="agent",
        target_id=world.public_agent.pk,
        reason="spam",
    )
    world.purchase = Purchase.objects.create(
        user=owner,
        checkout_session_id="cs_test_owner",
        pack="small",
        credits=1000,
    )
    world.webhook_endpoint = WebhookEndpoint.objects.create(
        id="we_test_matrix",
        livemode=False,
        secret="whsec_test_matrix",
        url="https://agentry.example/stripe/webhook/",
        enabled_events=["*"],
        status="enabled",
        api_version="2026-05-27.dahlia",
    )
    world.sessions = {}
    for actor in ("stranger", "owner", "staff"):
        client = Client()
        client.force_login(getattr(world, actor))
        world.sessions[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, kept for the whole module inside a transaction that is rolled
    back at its end; each test's own savepoint undoes what the test wrote."""
    from agents.catalog import catalog_ensure
    from billing.pricing import tool_prices_ensure

    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            catalog_ensure()
            tool_prices_ensure()
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _model_catalog():
    """The world loaded the model catalog and tool prices once, and every
    test's savepoint keeps them: no need to ensure them before each test as
    tests/conftest.py does."""


# Default values of path parameters, as attributes of the world (or literals).
PARAMETERS = {
    "agent_id": "agent.pk",
    "workflow_id": "workflow.pk",
    "run_id": "run.pk",
    "conversation_id": "conversation.pk",
    "key_id": "provider_key.pk",
    "tool_id": "custom_tool.pk",
    "username": "owner.username",
    "slug": "agent.slug",
    "token": "shared_run.share_token",
    "prefix": "api_key.prefix",
    "thread_id": "thread.pk",
    "comment_id": "comment.pk",
    "notification_id": "notification.pk",
    "file_id": "file.pk",
    "collection_id": "collection.pk",
    "handoff_id": "handoff.pk",
    "number": "version.number",
    "target_id": "agent.pk",
    "uuid": "webhook_endpoint.djstripe_uuid",
}
LITERALS = {
    "name": "calculator",
    "target_type": "agent",
    "provider_id": "openai",
    # allauth's e-mail confirmation and password reset keys: wrong ones.
    "key": "not-a-real-key",
    "uidb36": "zz",
}


def _value(world, spec):
    value = world
    for attribute in spec.split("."):
        value = getattr(value, attribute)
    return value


def _admin_kwargs(route: Route, world) -> dict:
    """Path parameters of an admin page: an object of its model that exists."""
    kwargs = {}
    try:  # admin/<app_label>/<model_name>/...
        model = apps.get_model(*route.pattern.split("/")[1:3])
    except (LookupError, TypeError, ValueError):
        model = type(world.agent)
    for name in route.parameters:
        if name in ("object_id", "id") or (
            name.endswith("_id") and name != ("content_type_id")
        ):
            first = model._default_manager.order_by("pk").first()
            kwargs[name] = str(first.pk) if first else "0"
        elif name == "app_label":
            kwargs[name] = "agents"
        elif name == "content_type_id":
            kwargs[name] = ContentType.objects.get_for_model(world.agent).pk
        elif name == "model_name":
            kwargs[name] = model._meta.model_name
        elif name == "action_name":
            kwargs[name] = "no-such-action"
        elif name == "url":
            kwargs[name] = "no-such-page/"
    return kwargs


def url_for(route: Route, rule: Rule, world) -> str:
    if route.pattern.startswith("admin/"):
        kwargs = _admin_kwargs(route, world)
    else:
        kwargs = {}
        for name in route.parameters:
            if name in rule.kwargs:
                spec = rule.kwargs[name]
                kwargs[name] = _value(world, spec) if isinstance(spec, str) else spec
            elif name in PARAMETERS:
                kwargs[name] = _value(world, PARAMETERS[name])
            else:
                kwargs[name] = LITERALS[name]
    query = f"?{rule.query}" if rule.query else ""
    if "(?P<" in route.pattern:
        # A regular expression: only reverse() can fill it in.
        if route.qualified_name:
            return reverse(route.qualified_name, kwargs=kwargs) + query
        return "/admin/" + kwargs["url"]  # the admin's catch-all
    # Filled in directly rather than by name: several routes share names.
    path = route.pattern
    for name, value in kwargs.items():
        path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
    return "/" + path + query


def reaches(url: str, route: Route) -> bool:
    """Whether the URL built for a route reaches that route, not another one
    (two routes can share a name)."""
    match = resolve(url.split("?")[0])
    if "(?P<" in route.pattern:
        return match.func is route.callback
    return match.route == route.pattern


def client_for(actor: str, world) -> Client:
    client = Client()
    if actor != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[actor]
    return client


# ---------------------------------------------------------------------------
# What must not change: every row of the project's models.
# ---------------------------------------------------------------------------

SNAPSHOT_APPS = ("agents", "billing", "community", "files", "workflows", "account")


def _user_columns(model) -> list[str]:
    from community.models import User

    return [
        field.column
        for field in model._meta.concrete_fields
        if isinstance(field, ForeignKey) and field.related_model is User
    ]


def _snapshot_sql() -> str:
    """One query over every table of the project's models: each row's key, a
    digest of all its values, and the users it belongs to."""
    from community.models import User

    parts = []
    for label in SNAPSHOT_APPS:
        for model in apps.get_app_config(label).get_models():
            if model._meta.proxy or not model._meta.managed:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            people = [
                connection.ops.quote_name(column) for column in _user_columns(model)
            ]
            if model is User:
                people.append(pk)
            owners = ", ".join(f"({column})::bigint" for column in people)
            # Only the models' own (quoted) names go into the query.
            parts.append(
                f"SELECT '{model._meta.label}:' || ({pk})::text, md5(t::text), "  # noqa: S608
                f"ARRAY[{owners}]::bigint[] FROM {table} AS t"
            )
    return " UNION ALL ".join(parts)


def snapshot() -> dict[str, tuple[str, set]]:
    with connection.cursor() as cursor:
        cursor.execute(_snapshot_sql())
        return {key: (digest, set(people)) for key, digest, people in cursor}


def changes(before: dict, after: dict, actor_id: int | None) -> dict[str, list]:
    """Rows added, and rows changed or removed that are not the actor's own."""
    changed = [
        key
        for key, (digest, people) in before.items()
        if after.get(key, (None,))[0] != digest and actor_id not in people
    ]
    added = [key for key in after if key not in before]
    return {"changed or removed": changed, "added": added}


# ---------------------------------------------------------------------------
# Checking an outcome.
# ---------------------------------------------------------------------------


def matches(response, outcome: str) -> bool:
    for option in outcome.split("|"):
        location = response.get("Location", "")
        if option == LOGIN:
            if response.status_code == 302 and location.startswith(
                reverse("account_login")
            ):
                return True
        elif option == ADMIN_LOGIN:
            if response.status_code == 302 and location.startswith(
                reverse("admin:login")
            ):
                return True
        elif option == REDIRECT:
            if response.status_code in (301, 302, 303, 307) and not (
                location.startswith((reverse("account_login"), reverse("admin:login")))
            ):
                return True
        elif response.status_code == int(option):
            return True
    return False


def assert_no_server_error(response, rule: Rule, request: str) -> None:
    allowed = response.status_code == 503 and rule.unavailable
    assert response.status_code < 500 or allowed, f"{request}: {describe(response)}"


def describe(response) -> str:
    location = response.get("Location")
    return f"{response.status_code}" + (f" -> {location}" if location else "")


def payload(world) -> dict:
    """A body for unsafe requests: plausible fields, and ids of the owner's
    things wherever a form or an endpoint takes one in the body."""
    text = "Changed by someone else"
    return {
        "name": text,
        "title": text,
        "body": text,
        "text": text,
        "description": text,
        "instructions": text,
        "review": text,
        "visibility": "public",
        "stars": 5,
        "reason": "spam",
        "decision": "approve",
        "emoji": "heart",
        "enabled": False,
        "input": "hello",
        "runs": [world.run.pk],
        "run_ids": [world.run.pk],
        "agent": world.agent.pk,
        "agent_id": world.agent.pk,
        "target": world.agent.pk,
        "target_id": world.agent.pk,
        "file_id": world.file.pk,
        "collection": world.collection.pk,
        "collection_id": world.collection.pk,
        "detach_file": world.file.pk,
        "detach_collection": world.collection.pk,
        "remove": world.handoff.pk,
        "parent": world.comment.pk,
        "conversation": world.conversation.pk,
        "conversation_id": world.conversation.pk,
    }


def send(client, method: str, url: str, world):
    if url.startswith(("/api/", "/_allauth/")):
        body, content_type = json.dumps(payload(world)), "application/json"
    elif method == "POST":
        return client.post(url, payload(world))
    else:
        body, content_type = "", "application/octet-stream"
    return client.generic(method, url, body, content_type=content_type)


# ---------------------------------------------------------------------------
# The tests.
# ---------------------------------------------------------------------------


def _route_id(route: Route) -> str:
    return route.pattern or "/"


def _is_admin(route: Route) -> bool:
    return route.pattern.startswith("admin/")


# The admin's hundreds of pages share one guard: they are checked for staff
# one by one, and for everyone else in one loop per visitor
# (test_it_keeps_the_admin_to_staff).
def _known_failure(route: Route, actor: str) -> list:
    rule = rule_for(route)
    if rule is not None and rule.known_failure and actor == "staff":
        return [pytest.mark.xfail(strict=True, reason="a third party's server error")]
    return []


GET_CASES = [
    pytest.param(
        route,
        actor,
        id=f"{_route_id(route)}-{actor}",
        marks=_known_failure(route, actor),
    )
    for route in ROUTES
    for actor in ACTORS
    if actor == "staff" or not _is_admin(route)
]
WRITE_CASES = [
    pytest.param(route, method, actor, id=f"{method} {_route_id(route)}-{actor}")
    for route in ROUTES
    if not _is_admin(route)
    for method in route.unsafe_methods
    for actor in ("anonymous", "stranger")
]

# Text that only the owner (and staff) may ever be shown.
PRIVATE_MARKERS = (
    "Secret agent",
    "Secret helper",
    "the private question",
    "private answer",
    "sk-private-owner-key",
    "private launch codes",
    "A private message",
    "Private flow",
    "private flow input",
    "Someone followed you",
    "owner-private.example",
    "cs_test_owner",
)


def test_it_notices_a_change_to_the_owners_things_but_not_the_strangers(world, db):
    """The snapshot the write checks rely on sees a changed, added or removed
    row, and leaves out the stranger's own rows."""
    from agents.models import Agent
    from billing.services import account_threshold_set
    from community.models import Notification

    before = snapshot()
    Agent.objects.filter(pk=world.agent.pk).update(name="Renamed")
    Notification.objects.filter(pk=world.notification.pk).delete()
    account = account_threshold_set(user=world.stranger, threshold=5)
    after = snapshot()

    found = changes(before, after, world.stranger.pk)
    assert sorted(found["changed or removed"]) == [
        f"agents.Agent:{world.agent.pk}",
        f"community.Notification:{world.notification.pk}",
    ]
    anyone = changes(before, after, None)
    assert f"billing.CreditAccount:{account.pk}" in anyone["changed or removed"]


def test_it_has_a_rule_for_every_route():
    """A route without a rule in the table (a new endpoint, say) fails here:
    deciding who may reach it is part of adding it."""
    missing = [route.pattern for route in ROUTES if rule_for(route) is None]
    assert missing == []


def test_it_has_no_rules_for_routes_that_are_gone():
    """The table does not keep rules for routes that no longer exist."""
    patterns = {route.pattern for route in ROUTES}
    assert sorted(set(RULES) - patterns) == []
    unused = [
        key
        for key in GROUP_RULES
        if not any(
            key.match(pattern)
            if isinstance(key, re.Pattern)
            else pattern.startswith(key)
            for pattern in patterns
        )
    ]
    assert unused == []


@pytest.mark.parametrize(("route", "actor"), GET_CASES)
def test_it_answers_a_get_as_the_table_says(route, actor, world, db):
    """Each visitor gets what the route's rule says, never a server error, and
    nobody but the owner and staff is shown the owner's private things."""
    rule = rule_for(route)
    assert rule is not None, f"no rule for {route.pattern}"
    url = url_for(route, rule, world)
    assert reaches(url, route)
    expected = rule.get.split()[ACTORS.index(actor)]

    response = client_for(actor, world).get(url)

    assert_no_server_error(response, rule, f"GET {url} as {actor}")
    assert matches(response, expected), (
        f"GET {url} as {actor}: expected {expected}, got {describe(response)}"
    )
    if actor in ("anonymous", "stranger"):
        # Downloads (an account's export) are read too.
        body = (
            b"".join(response.streaming_content)
            if response.streaming
            else response.content
        )
        content = body.decode(errors="replace")
        leaked = [marker for marker in PRIVATE_MARKERS if marker in content]
        assert leaked == [], f"GET {url} as {actor} shows {leaked}"


def check_write(route: Route, method: str, actor: str, world) -> None:
    rule = rule_for(route)
    assert rule is not None, f"no rule for {route.pattern}"
    url = url_for(route, rule, world)
    before = snapshot()

    response = send(client_for(actor, world), method, url, world)

    assert_no_server_error(response, rule, f"{method} {url} as {actor}")
    after = snapshot()
    actor_id = world.stranger.pk if actor == "stranger" else None
    found = changes(before, after, actor_id)
    assert found["changed or removed"] == [], f"{method} {url} as {actor}"
    if rule.writes == "public":
        return
    if actor == "anonymous":
        refused = "login|admin-login|401|403|404|405"
    elif rule.writes == "self":
        return
    else:
        refused = f"admin-login|{rule.refused}"
    assert matches(response, refused), (
        f"{method} {url} as {actor}: expected a refusal, got {describe(response)}"
    )
    assert found["added"] == [], f"{method} {url} as {actor}"


@pytest.mark.parametrize(("route", "method", "actor"), WRITE_CASES)
def test_it_refuses_writes_to_the_owners_things(route, method, actor, world, db):
    """An anonymous visitor and a stranger cannot change anything of the
    owner's through any route and method: they are refused, and every row
    that is not the stranger's own is as it was."""
    check_write(route, method, actor, world)


@pytest.mark.parametrize("actor", ["anonymous", "stranger", "owner"])
def test_it_keeps_the_admin_to_staff(actor, world, db):
    """Every admin page sends anyone but staff to the admin's sign-in page
    (or answers as its own rule says), and no POST to any of them changes a
    row (one snapshot around them all: the guard answers before any view)."""
    failures = []
    before = snapshot()
    for route in ROUTES:
        if not _is_admin(route):
            continue
        rule = rule_for(route)
        url = url_for(route, rule, world)
        expected = rule.get.split()[ACTORS.index(actor)]
        response = client_for(actor, world).get(url)
        if not matches(response, expected):
            failures.append(f"GET {url}: expected {expected}, {describe(response)}")
        if actor == "owner" or rule.writes == "public":
            continue
        for method in route.unsafe_methods:
            response = send(client_for(actor, world), method, url, world)
            if not matches(response, ADMIN_LOGIN):
                failures.append(f"{method} {url}: {describe(response)}")
    actor_id = world.stranger.pk if actor == "stranger" else None
    found = changes(before, snapshot(), actor_id)

    assert failures == []
    assert found == {"changed or removed": [], "added": []}


# ---------------------------------------------------------------------------
# Websockets: a connection is accepted, or closed with the consumer's code.
# ---------------------------------------------------------------------------

WEBSOCKET_RULES = {
    # Each person's own stream: the group comes from the user's id.
    "ws/events/": Rule("4401 accept accept accept"),
    # A run's stream: its starter and staff, like the run's page.
    "ws/runs/<int:run_id>/": Rule("4401 4404 accept accept"),
}


def websocket_routes() -> list[str]:
    from config.routing import websocket_urlpatterns

    return [str(pattern.pattern) for pattern in websocket_urlpatterns]


WEBSOCKET_CASES = [
    pytest.param(pattern, actor, credential, id=f"{pattern}-{actor}-{credential}")
    for pattern in websocket_routes()
    for actor in ACTORS
    for credential in (("cookie", "bearer") if actor != "anonymous" else ("none",))
]


def test_it_has_a_rule_for_every_websocket_route():
    """A websocket route without a rule fails here."""
    assert sorted(set(websocket_routes()) ^ set(WEBSOCKET_RULES)) == []


def _websocket_headers(actor, credential, world) -> list[tuple[bytes, bytes]]:
    from community.services import api_key_create

    if credential == "cookie":
        cookie = f"{settings.SESSION_COOKIE_NAME}={world.sessions[actor]}"
        return [(b"cookie", cookie.encode())]
    if credential == "bearer":
        _, secret = api_key_create(user=getattr(world, actor), name="socket")
        return [(b"authorization", f"Bearer {secret}".encode())]
    return []


@pytest.fixture
def _keep_the_test_transaction(monkeypatch):
    """Channels closes "old" database connections around each consumer call;
    inside the test's transaction that would close the connection the world
    lives on. Channels' own test communicator does the same for HTTP."""

    async def keep():
        return None

    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)
    monkeypatch.setattr("channels.consumer.aclose_old_connections", keep)
    monkeypatch.setattr("channels.generic.websocket.aclose_old_connections", keep)


@pytest.mark.parametrize(("pattern", "actor", "credential"), WEBSOCKET_CASES)
@pytest.mark.usefixtures("_keep_the_test_transaction")
def test_it_lets_only_the_right_people_watch_a_websocket(
    pattern, actor, credential, world, db
):
    """Each visitor, with a session cookie or an API key, is accepted or closed
    with the code the table says; a refused socket is sent nothing."""
    from config.asgi import application

    path = "/" + pattern.replace("<int:run_id>", str(world.run.pk))
    expected = WEBSOCKET_RULES[pattern].get.split()[ACTORS.index(actor)]
    headers = _websocket_headers(actor, credential, world)

    async def attempt():
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await communicator.connect(timeout=10)
        if connected:
            await communicator.disconnect()
            return "accept", None
        nothing = await communicator.receive_nothing(timeout=0.05)
        return str(code), nothing

    # Run in this thread, inside the test's transaction: the consumers'
    # database calls see the world, and Channels' test communicator keeps the
    # connection open.
    outcome, sent_nothing = async_to_sync(attempt)()

    assert outcome == expected
    assert sent_nothing in (None, True)
