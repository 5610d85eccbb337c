from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey

username_validator = RegexValidator(
    regex=r"^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\Z",
    message=_(
        "Use letters, digits, hyphens and underscores, starting and ending with a "
        "letter or digit."
    ),
    code="invalid_username",
)


class User(AbstractUser):
    """A person with an account. `username` appears in public URLs (/u/<username>/)."""

    username = models.CharField(
        _("username"),
        max_length=39,
        unique=True,
        validators=[username_validator],
        help_text=_("Up to 39 letters, digits, hyphens or underscores."),
        error_messages={"unique": _("That username is taken.")},
    )
    email = models.EmailField(_("email address"), blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Usernames live in URLs: "Alice" and "alice" must not be two people.
            models.UniqueConstraint(
                Lower("username"), name="community_user_username_ci_unique"
            ),
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="community_user_email_ci_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def get_absolute_url(self) -> str:
        return reverse("community:profile", kwargs={"username": self.username})


class PersonalApiKey(AbstractAPIKey):
    """A user's key for the API (`Authorization: Bearer <prefix>.<secret>`).

    Only a SHA-512 hash of the key is stored; the key itself is shown once, at
    creation. `prefix` identifies the key publicly (in URLs and listings).
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("user")
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("personal API key")
        verbose_name_plural = _("personal API keys")
        indexes = [models.Index(fields=["user", "-created"])]
