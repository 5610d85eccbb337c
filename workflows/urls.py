from django.urls import path
from django.utils.translation import gettext_lazy as _

from config.views import coming_soon
from workflows import views

app_name = "workflows"

urlpatterns = [
    path(
        "workflows/",
        coming_soon(_("Workflows"), _("Chain agents: handoffs, branches and loops.")),
        name="list",
    ),
    path(
        "agents/<int:agent_id>/handoffs/",
        views.agent_handoffs,
        name="agent-handoffs",
    ),
]
