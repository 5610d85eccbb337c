from django.urls import path
from django.utils.translation import gettext_lazy as _

from config.views import coming_soon

app_name = "billing"

urlpatterns = [
    path(
        "credits/",
        coming_soon(_("Credits"), _("Your balance, usage and purchases.")),
        name="credits",
    ),
]
