"""The staff dashboard at /admin/dashboard/: runs by outcome, failures, the
busiest agents and workflows, and credits sold and spent, over the last day
(by hour) or the last month (by day).

Registered in config/urls.py through ``admin.site.admin_view``, which sends
anyone who is not active staff to the admin's sign-in page. Every figure is
aggregated in the database by the selectors (four queries whatever the
number of rows); the charts are SVG drawn by the template from
config.charts, with no script.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from agents import selectors as agent_selectors
from billing import selectors as billing_selectors
from config.charts import Series, bar_chart
from config.periods import window_for

RUN_SERIES = [
    Series("completed", _("Completed"), "#2f855a"),
    Series("failed", _("Failed"), "#c53030"),
    Series("cancelled", _("Cancelled"), "#a0aec0"),
    Series("other", _("Queued, running or paused"), "#3182ce"),
]
# Two charts, not one: purchases come in hundreds of credits and runs cost a
# few, so on a shared scale the spending would not show.
SOLD_SERIES = [Series("sold", _("Sold"), "#2b6cb0")]
SPENT_SERIES = [Series("spent", _("Spent on runs"), "#dd6b20")]
# How a window's periods are written: under the x axis (only every few, so
# they do not collide), and in full in tooltips and tables.
PERIOD_FORMATS = {
    "hour": {"axis": "H:i", "full": "M j, H:i", "label_every": 3},
    "day": {"axis": "M j", "full": "D, M j", "label_every": 5},
}


@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    window = window_for(request.GET.get("window"))
    user = request.user
    formats = PERIOD_FORMATS[window.unit]
    runs = agent_selectors.run_outcomes_by_period(user=user, window=window)
    credits = billing_selectors.credits_by_period(user=user, window=window)
    run_totals = {
        key: sum(row[key] for row in runs) for key in agent_selectors.RUN_OUTCOMES
    }
    finished = run_totals["completed"] + run_totals["failed"] + run_totals["cancelled"]
    context = {
        **admin.site.each_context(request),
        "title": _("Site activity"),
        "window": window,
        "formats": formats,
        "runs": runs,
        "run_totals": run_totals,
        "run_count": sum(run_totals.values()),
        # Of the runs that ended: one still running has not failed yet.
        "failure_rate": 100 * run_totals["failed"] / finished if finished else None,
        "runs_chart": bar_chart(
            runs, RUN_SERIES, stacked=True, label_every=formats["label_every"]
        ),
        "failed_runs": agent_selectors.run_list_failed_recently(
            user=user, window=window
        ),
        "leaders": agent_selectors.run_leaders(user=user, window=window),
        "credits": credits,
        "credits_sold": sum(row["sold"] for row in credits),
        "credits_spent": sum(row["spent"] for row in credits),
        "sold_chart": bar_chart(
            credits, SOLD_SERIES, stacked=False, label_every=formats["label_every"]
        ),
        "spent_chart": bar_chart(
            credits, SPENT_SERIES, stacked=False, label_every=formats["label_every"]
        ),
    }
    return TemplateResponse(request, "admin/dashboard.html", context)
