"""django-allauth: accounts, headless API for app clients, optional social login."""

from config.env import env

ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
# "optional" by default; "mandatory" makes users confirm their address first.
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_USERNAME_BLACKLIST = [
    "admin", "api", "static", "media", "accounts", "settings", "u", "health",
    "discover", "agents", "runs", "files", "credits", "stripe", "_allauth",
    # Names that other routes use where a username goes
    # (/api/v1/users/me/..., /api/v1/users/api-keys/).
    "me", "api-keys", "report", "feed", "messages", "notifications", "people",
    "playground", "conversations", "tools", "workflows", "moderators", "staff",
    # Holds what deleted accounts shared (community.account_deletion).
    "deleted-user",
]  # fmt: skip
ACCOUNT_ADAPTER = "community.adapters.AccountAdapter"
# Unconfigured providers' login pages answer 404 (not a 500).
SOCIALACCOUNT_ADAPTER = "community.adapters.SocialAccountAdapter"

# Headless: programs sign up and log in over HTTP and get a session token.
HEADLESS_CLIENTS = ("app", "browser")
HEADLESS_SERVE_SPECIFICATION = False

# Social providers appear on the login page once their keys are set.
SOCIALACCOUNT_PROVIDERS: dict = {}
for _provider in ("github", "google"):
    _client_id = env.str(f"{_provider.upper()}_CLIENT_ID", default="")
    if _client_id:
        SOCIALACCOUNT_PROVIDERS[_provider] = {
            "APPS": [
                {
                    "client_id": _client_id,
                    "secret": env.str(f"{_provider.upper()}_CLIENT_SECRET"),
                }
            ]
        }
SOCIALACCOUNT_LOGIN_ON_GET = False
ACCOUNT_ALLOW_SIGNUP = env.bool("ACCOUNT_ALLOW_SIGNUP", default=True)
