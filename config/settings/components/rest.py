"""Django REST framework, the OpenAPI schema (drf-spectacular) and rate
limits."""

from config.env import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "community.authentication.ApiKeyAuthentication",
        "allauth.headless.contrib.rest_framework.authentication.XSessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # DRF's own, refusing text with NUL characters (config.api).
    "DEFAULT_PARSER_CLASSES": [
        "config.api.JSONParser",
        "config.api.FormParser",
        "config.api.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Agentry API",
    "DESCRIPTION": (
        "Build, run, publish and pay for AI agents. Authenticate with a personal API "
        "key (`Authorization: Bearer <key>`), an allauth session token "
        "(`X-Session-Token`) or the browser session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets used by several fields get one name.
    "ENUM_NAME_OVERRIDES": {"FileKindEnum": "files.models.FileKind"},
}

# Rate limits (config.throttles), per API key, else per person, in DRF's
# notation ("30/min": per second, min, hour or day); "" switches one off.
# Over the limit: 429 with Retry-After, on the API and the pages alike.
RATE_LIMITS = {
    # Agent runs, playground runs and workflow runs started.
    "run_start": env.str("RATE_LIMIT_RUN_STARTS", default="30/min"),
    "upload": env.str("RATE_LIMIT_UPLOADS", default="60/min"),
    # Comments (and replies) on agents and workflows, and direct messages.
    "comment": env.str("RATE_LIMIT_COMMENTS", default="10/min"),
    "message": env.str("RATE_LIMIT_MESSAGES", default="20/min"),
}
