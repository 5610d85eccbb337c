from django.urls import path
from django.utils.translation import gettext_lazy as _

from config.views import coming_soon

app_name = "agents"

urlpatterns = [
    path(
        "agents/",
        coming_soon(_("My agents"), _("Build agents on the OpenAI Agents SDK.")),
        name="list",
    ),
    path(
        "runs/",
        coming_soon(_("Runs"), _("Every run of your agents, step by step.")),
        name="runs",
    ),
]
