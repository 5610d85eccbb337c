"""Site-wide views: health, placeholders for upcoming sections, error pages."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config import metrics, throttles
from config.health import run_checks


@never_cache
@require_GET
def health(request):
    """200 when the database (with pgvector), channel layer, broker and at least
    one Celery worker are all up; 503 naming the failing part otherwise.

    Versions, host names and errors are for staff, for scrapers allowed
    /metrics and for this machine; anyone else learns only which parts are
    up, which is all a load balancer needs."""
    ok, checks = run_checks()
    failing = [name for name, result in checks.items() if not result["ok"]]
    if not (
        request.user.is_staff
        or metrics.scraper_allowed(request)
        or metrics.from_this_machine(request)
    ):
        checks = {name: {"ok": result["ok"]} for name, result in checks.items()}
    return JsonResponse(
        {"status": "ok" if ok else "error", "failing": failing, "checks": checks},
        status=200 if ok else 503,
    )


def coming_soon(page_title: str, description: str):
    @require_GET
    def view(request):
        return render(
            request,
            "coming_soon.html",
            {"page_title": page_title, "description": description},
        )

    return view


def _wants_json(request) -> bool:
    return request.path.startswith(("/api/", "/_allauth/")) or (
        "application/json" in request.headers.get("Accept", "")
        and "text/html" not in request.headers.get("Accept", "")
    )


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    if _wants_json(request):
        # DRF's words, so the API's 403s read alike wherever they come from.
        return JsonResponse(
            {"detail": "You do not have permission to perform this action."},
            status=403,
        )
    return render(request, "403.html", status=403)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form posted without its token (an old tab, another
    site) is a branded 403 telling the visitor to reload; JSON for programs."""
    if _wants_json(request):
        return JsonResponse({"detail": f"CSRF Failed: {reason}"}, status=403)
    return render(request, "403_csrf.html", status=403)


def server_error(request):
    if _wants_json(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    # 500.html is rendered without context processors: it must not need any.
    from django.views.defaults import server_error as django_server_error

    return django_server_error(request)


def bad_request(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    from django.views.defaults import bad_request as django_bad_request

    return django_bad_request(request, exception)


def too_many_requests(request, exception=None):
    """allauth's 429 (signing up or in, resetting a password too often): how
    long its limit lasts, on the page and in Retry-After."""
    seconds = throttles.allauth_wait(request)
    reason = _("Too many attempts from here.")
    if _wants_json(request):
        response = JsonResponse(
            {"detail": f"{reason} {throttles.try_again(seconds)}"}, status=429
        )
        response["Retry-After"] = str(seconds)
        return response
    return throttles.rate_limited_page(request, reason=reason, seconds=seconds)
