from django import forms
from django.utils.translation import gettext_lazy as _

from community.account_deletion import SHARED_CHOICES, TRANSFER
from community.models import ReportReason


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=50,
        help_text=_("What will use this key, e.g. “CI pipeline” or “my laptop”."),
    )
    expires_at = forms.DateField(
        label=_("Expires"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional. The key stops working at the start of this day (UTC)."),
    )


class ProfileForm(forms.Form):
    """The settings page's profile form. It only parses; services.profile_update
    validates and saves (the API calls the same service)."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=50,
        required=False,
        help_text=_("Shown instead of your username. Up to 50 characters."),
    )
    bio = forms.CharField(
        label=_("Bio"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Markdown. Up to 2,000 characters."),
    )
    link_1 = forms.CharField(label=_("Link 1"), max_length=200, required=False)
    link_2 = forms.CharField(label=_("Link 2"), max_length=200, required=False)
    link_3 = forms.CharField(label=_("Link 3"), max_length=200, required=False)
    link_4 = forms.CharField(label=_("Link 4"), max_length=200, required=False)
    avatar = forms.FileField(
        label=_("Avatar"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}
        ),
        help_text=_("PNG, JPEG, WebP or GIF, up to 5 MB. It is cropped to a square."),
    )
    remove_avatar = forms.BooleanField(label=_("Remove my avatar"), required=False)

    LINK_FIELDS = ("link_1", "link_2", "link_3", "link_4")

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in kinds:
            self.fields[f"email_{value}"] = forms.BooleanField(
                label=label, required=False
            )

    @property
    def email_fields(self):
        return [self[name] for name in self.fields if name.startswith("email_")]

    @property
    def link_fields(self):
        return [self[name] for name in self.LINK_FIELDS]

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Put a service's errors on the fields the page shows."""
        for field, messages in errors.items():
            if field == "links":
                field = "link_1"
            elif field == "email_preferences" or field not in self.fields:
                field = None
            for message in messages:
                self.add_error(field, message)


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why are you reporting this?"),
        choices=ReportReason.choices,
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label=_("Anything the moderators should know (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class AccountDeleteForm(forms.Form):
    """The delete-account form. It only parses; account_deletion.account_delete
    checks and deletes (the API calls the same service)."""

    shared_items = forms.ChoiceField(
        label=_("Your shared (public or unlisted) agents and workflows"),
        choices=list(
            zip(
                SHARED_CHOICES,
                [
                    _(
                        "Keep them for others under “deleted-user”, so their "
                        "forks, runs and workflows keep working"
                    ),
                    _("Delete them too"),
                ],
                strict=True,
            )
        ),
        initial=TRANSFER,
        widget=forms.RadioSelect,
    )
    password = forms.CharField(
        label=_("Your password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirmation = forms.CharField(
        label=_("Type your username to confirm"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
