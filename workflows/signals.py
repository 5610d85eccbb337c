"""A workflow's runs go with it.

A workflow run is an ``agents.Run`` (which has no link to the workflow) plus
its ``WorkflowRun``; deleting the workflow would cascade to the WorkflowRun
only and leave the Run behind, unreadable. Whatever deletes a workflow (its
owner, staff, its owner's account going), its runs are deleted first, their
held credits given back. Django sends pre_delete for cascaded deletes too.
"""

from __future__ import annotations

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from workflows.models import Workflow


@receiver(pre_delete, sender=Workflow, dispatch_uid="workflow_runs_go_with_it")
def delete_workflow_runs(sender, instance: Workflow, **kwargs) -> None:
    from agents.models import Run
    from agents.services.runs import run_settle

    runs = Run.objects.filter(workflow_run__workflow=instance)
    for run in runs.filter(budget__released_at__isnull=True):
        run_settle(run)
    runs.delete()
