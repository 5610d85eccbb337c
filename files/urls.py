from django.urls import path
from django.utils.translation import gettext_lazy as _

from config.views import coming_soon

app_name = "files"

urlpatterns = [
    path(
        "files/",
        coming_soon(
            _("Files"), _("Upload documents and let agents search and cite them.")
        ),
        name="list",
    ),
]
