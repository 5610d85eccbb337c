"""Pages of the agents app: the list, the builder, an agent, its versions, runs.

Every view parses input, loads objects through ``agents.selectors``, calls at
most one service, and renders. A resource the user may not see is a 404; one
they may see but not change is a 403.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from agents import definitions, presenters, selectors, services
from agents.forms import (
    AgentForm,
    CustomToolForm,
    PlaygroundForm,
    PlaygroundSaveForm,
    RunFilterForm,
    RunForm,
    VersionCompareForm,
)
from agents.models import Agent, Conversation, CustomTool, Provider, Run, RunStatus
from agents.payloads import run_to_dict, step_to_dict
from agents.tools import all_tools

RUNS_PER_PAGE = 20
RECENT_RUNS = 10


# ---------- Loading with permissions ----------


def _visible_agent(request, agent_id) -> Agent:
    agent = selectors.agent_get_visible(user=request.user, agent_id=agent_id)
    if agent is None:
        raise Http404
    return agent


def _editable_agent(request, agent_id) -> Agent:
    agent = _visible_agent(request, agent_id)
    if not selectors.agent_can_edit(user=request.user, agent=agent):
        raise PermissionDenied
    return agent


def _visible_run(request, run_id) -> Run:
    run = selectors.run_get_visible(user=request.user, run_id=run_id)
    if run is None:
        raise Http404
    return run


def _own_run(request, run_id) -> Run:
    """Staff may look at anyone's run; only the person who started it acts on it."""
    run = _visible_run(request, run_id)
    if run.owner_id != request.user.pk:
        raise PermissionDenied
    return run


# ---------- Agents ----------


def _agent_list_page(request, *, import_errors=None, status=200):
    if not request.user.is_authenticated:
        return render(request, "agents/agent_list.html", {"agents": None})
    agents = list(selectors.agent_list_owned(user=request.user))
    labels = selectors.model_labels()
    for agent in agents:
        agent.model_label = labels.get(agent.model, agent.model)
    context = {"agents": agents, "import_errors": import_errors or []}
    return render(request, "agents/agent_list.html", context, status=status)


@require_GET
def agent_list(request):
    return _agent_list_page(request)


@login_required
@require_POST
def agent_import(request):
    upload = request.FILES.get("file")
    text = upload.read().decode("utf-8", errors="replace") if upload else None
    try:
        agent = services.agent_import(owner=request.user, text=text)
    except ValidationError as error:
        problems = [
            f"{field}: {message}" if field not in ("file", "__all__") else message
            for field, messages_ in error.message_dict.items()
            for message in messages_
        ]
        return _agent_list_page(request, import_errors=problems, status=400)
    messages.success(
        request, _("Imported %(name)s as a private agent.") % {"name": agent.name}
    )
    for note in agent.import_notes:
        messages.warning(request, note)
    return redirect("agents:detail", agent.pk)


def _go(request, url_name: str):
    """Where to after a delete: htmx follows a header, a plain form a redirect."""
    if request.htmx:
        return HttpResponseClientRedirect(reverse(url_name))
    return redirect(url_name)


def _validate_url(agent: Agent | None) -> str:
    url = reverse("agents:validate-field")
    return f"{url}?agent={agent.pk}" if agent is not None else url


def _tool_choices(request, agent: Agent | None) -> list:
    """Built-in tools, then the owner's webhook tools (listed by reference)."""
    owner = agent.owner if agent is not None else request.user
    custom = [
        SimpleNamespace(
            name=tool.reference,
            description=_("%(name)s (your webhook tool): %(description)s")
            % {"name": tool.name, "description": tool.description},
        )
        for tool in selectors.custom_tool_list(user=owner)
    ]
    # Agents run as tools: the owner's others, and shared ones already in use.
    in_use = set(agent.tools or []) if agent is not None else set()
    agent_tools = [
        SimpleNamespace(
            name=other.tool_reference,
            description=_("%(name)s (agent run as a tool): %(description)s")
            % {"name": other.name, "description": other.description or ""},
        )
        for other in selectors.agent_tool_candidates(owner_id=owner.pk).order_by("name")
        if (other.owner_id == owner.pk or other.tool_reference in in_use)
        and (agent is None or other.pk != agent.pk)
    ]
    return [*all_tools(), *custom, *agent_tools]


def _agent_form(request, *, agent: Agent | None = None, data=None) -> AgentForm:
    guard_agents = selectors.agent_list_runnable(user=request.user)
    if agent is not None:
        guard_agents = guard_agents.exclude(pk=agent.pk)
    return AgentForm(
        data,
        initial=AgentForm.initial_for(agent) if agent else None,
        models=selectors.model_choices(user=agent.owner if agent else request.user),
        availability=selectors.provider_availability(user=request.user),
        tools=_tool_choices(request, agent),
        guard_agents=guard_agents,
        validate_url=_validate_url(agent),
    )


def _builder_context(request, form: AgentForm, *, agent: Agent | None) -> dict:
    context = {
        "form": form,
        "agent": agent,
        "snippets": presenters.INSTRUCTION_SNIPPETS,
        "tool_list": [
            (form["tools"][index], tool)
            for index, tool in enumerate(_tool_choices(request, agent))
        ],
    }
    if agent is not None:
        context.update(_run_panel_context(agent=agent, versions=[], panel="builder"))
    return context


@login_required
@require_http_methods(["GET", "POST"])
def agent_create(request):
    if request.method == "GET":
        form = _agent_form(request)
        return render(
            request, "agents/builder.html", _builder_context(request, form, agent=None)
        )
    form = _agent_form(request, data=request.POST)
    if form.is_valid():
        try:
            agent = services.agent_create(owner=request.user, data=form.service_data())
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
        else:
            messages.success(
                request,
                _("Saved %(name)s as version 1. Try it in the panel beside the form.")
                % {"name": agent.name},
            )
            return redirect("agents:edit", agent.pk)
    return render(
        request, "agents/builder.html", _builder_context(request, form, agent=None)
    )


@login_required
@require_http_methods(["GET", "POST"])
def agent_edit(request, agent_id: int):
    agent = _editable_agent(request, agent_id)
    if request.method == "GET":
        form = _agent_form(request, agent=agent)
        return render(
            request, "agents/builder.html", _builder_context(request, form, agent=agent)
        )
    form = _agent_form(request, agent=agent, data=request.POST)
    if form.is_valid():
        before = agent.version_number
        try:
            agent = services.agent_update(
                agent=agent, user=request.user, data=form.service_data()
            )
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
        else:
            if agent.version_number != before:
                message = _("Saved as version %(number)d.")
            else:
                message = _(
                    "Saved. The definition did not change: still version %(number)d."
                )
            messages.success(request, message % {"number": agent.version_number})
            return redirect("agents:edit", agent.pk)
    return render(
        request, "agents/builder.html", _builder_context(request, form, agent=agent)
    )


def _field_problems(name: str, value, form: AgentForm) -> list[str]:
    """What the definition checks say about one builder field on its own."""
    guardrail_keys = {
        "input_blocked_words": ("input", "blocked_words"),
        "input_blocked_patterns": ("input", "blocked_patterns"),
        "output_blocked_words": ("output", "blocked_words"),
        "output_blocked_patterns": ("output", "blocked_patterns"),
    }
    try:
        if name == "name":
            definitions.clean_name(value)
        elif name == "output_type":
            definitions.clean_output_type(value)
        elif name == "tags":
            definitions.clean_tags(value)
        elif name == "model":
            # The form's choices: the catalog's and the listed models.
            if value not in dict(form.fields["model"].choices):
                return [_("Pick a model from the list.")]
        elif name == "tool_choice":
            definitions.clean_model_settings(
                {"tool_choice": value}, tools=form.cleaned_data.get("tools") or []
            )
        elif name in guardrail_keys:
            stage, key = guardrail_keys[name]
            # Guard agents are checked on save, where the owner is known.
            definitions.clean_guardrails(
                {stage: {key: value}}, guard_agent_allowed=lambda agent_id: True
            )
    except ValidationError as error:
        return error.messages
    return []


@login_required
@require_POST
def validate_field(request):
    """One builder field's errors, for htmx to show while the user types.

    The request carries the whole form (htmx includes it); the field is the
    element that triggered the request.
    """
    name = request.htmx.trigger_name or request.POST.get("field", "")
    agent = None
    if request.GET.get("agent"):
        agent = _editable_agent(request, request.GET["agent"])
    form = _agent_form(request, agent=agent, data=request.POST)
    if name not in form.fields:
        raise Http404
    form.is_valid()
    errors = list(form.errors.get(name, []))
    if not errors and name in form.cleaned_data:
        raw = form.cleaned_data[name]
        errors = _field_problems(name, raw, form)
    return render(
        request,
        "agents/partials/field_errors.html",
        {
            "field": form[name],
            "errors": errors,
            "checked": name == "output_type"
            and bool(request.POST.get(name, "").strip()),
        },
    )


def _run_estimate(agent: Agent):
    """Credits a short run of the latest version costs (an estimate): on the
    agent's first example prompt, when it has one."""
    from billing import selectors as billing_selectors
    from billing.pricing import as_credits

    version = selectors.version_latest(agent=agent)
    if version is None or not billing_selectors.credits_enabled():
        return None
    estimate = services.run_cost_estimate(
        agent=agent,
        definition=version.definition,
        input=(agent.example_prompts or [""])[0],
    )
    return as_credits(estimate["milli"])


def _run_panel_context(
    *, agent: Agent, versions, form=None, run=None, panel: str = "detail"
) -> dict:
    # Only the person who started a run sees it here, so it is always theirs.
    """The "Try it" panel: the run form and, once started, the live run."""
    return {
        "agent": agent,
        "run_form": form or RunForm(versions=versions),
        "estimate": _run_estimate(agent),
        "panel": panel,
        "panel_run": (
            timeline_context(run, user=run.owner) if run is not None else None
        ),
    }


def timeline_context(run: Run, *, user) -> dict:
    steps = [step_to_dict(step) for step in selectors.step_list(run=run)]
    run_data = run_to_dict(run)
    workflow = run_data["workflow"] or {}
    return {
        "run": run,
        "run_data": run_data,
        "steps": presenters.timeline_tree(steps),
        "last_order": steps[-1]["order"] if steps else 0,
        # Approval steps still waiting show their buttons, to the one person
        # who may decide, while the run is paused (not once it is cancelled).
        "waiting_keys": (
            [w["key"] for w in workflow.get("waiting", [])]
            if run.status == RunStatus.PAUSED and run.owner_id == user.pk
            else []
        ),
        "can_cancel": run.owner_id == user.pk and not run.is_finished,
    }


def _detail_context(request, agent: Agent, *, run_form=None) -> dict:
    versions = list(selectors.version_list(agent=agent).select_related("created_by"))
    context = {
        "can_edit": selectors.agent_can_edit(user=request.user, agent=agent),
        "model_label": selectors.model_labels().get(agent.model, agent.model),
        "output_type_json": (
            presenters.pretty_json(agent.output_type) if agent.output_type else ""
        ),
        "versions": versions,
        "compare_form": VersionCompareForm(
            initial={
                "a": versions[1].number if len(versions) > 1 else None,
                "b": versions[0].number if versions else None,
            },
            versions=versions,
        ),
        "recent_runs": selectors.run_list_mine(user=request.user, agent_id=agent.pk)[
            :RECENT_RUNS
        ],
    }
    context.update(_run_panel_context(agent=agent, versions=versions, form=run_form))
    return context


@login_required
@require_GET
def agent_detail(request, agent_id: int):
    agent = _visible_agent(request, agent_id)
    return render(request, "agents/agent_detail.html", _detail_context(request, agent))


@login_required
@require_POST
def agent_delete(request, agent_id: int):
    agent = _editable_agent(request, agent_id)
    name = agent.name
    services.agent_delete(agent=agent)
    messages.success(request, _("Deleted %(name)s.") % {"name": name})
    return _go(request, "agents:list")


@login_required
@require_POST
def run_start(request, agent_id: int):
    """Start a run; htmx gets the run panel with the live timeline in it."""
    agent = _visible_agent(request, agent_id)
    versions = list(selectors.version_list(agent=agent))
    form = RunForm(request.POST, versions=versions)
    run = None
    if form.is_valid():
        try:
            run = services.run_start(
                agent=agent,
                user=request.user,
                input=form.cleaned_data["input"],
                version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
    if not request.htmx:
        if run is not None:
            return redirect(run)
        return render(
            request,
            "agents/agent_detail.html",
            _detail_context(request, agent, run_form=form),
        )
    panel = "builder" if request.POST.get("panel") == "builder" else "detail"
    context = _run_panel_context(
        agent=agent,
        versions=versions if panel == "detail" else [],
        form=form,
        run=run,
        panel=panel,
    )
    return render(request, "agents/partials/run_panel.html", context)


@login_required
@require_GET
def version_diff(request, agent_id: int):
    agent = _visible_agent(request, agent_id)
    versions = list(selectors.version_list(agent=agent))
    form = VersionCompareForm(request.GET, versions=versions)
    if not form.is_valid():
        raise Http404
    old = selectors.version_get(agent=agent, number=form.cleaned_data["a"])
    new = selectors.version_get(agent=agent, number=form.cleaned_data["b"])
    diffs = presenters.definition_diff(old.definition, new.definition)
    return render(
        request,
        "agents/version_diff.html",
        {
            "agent": agent,
            "old": old,
            "new": new,
            "form": form,
            "changed": [d for d in diffs if d.changed],
            "unchanged": [d.label for d in diffs if not d.changed],
        },
    )


# ---------- Runs ----------


@require_GET
def run_list(request):
    if not request.user.is_authenticated:
        return render(request, "agents/run_list.html", {"page": None})
    agents = list(presenters.agents_with_runs_by(user=request.user))
    form = RunFilterForm(request.GET, agents=agents)
    filters = form.cleaned_data if form.is_valid() else {}
    runs = selectors.run_list_mine(
        user=request.user,
        agent_id=filters.get("agent"),
        status=filters.get("status") or None,
        search=filters.get("q") or "",
        since=filters.get("since"),
        until=filters.get("until"),
    )
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "agents/run_list.html",
        {
            "page": page,
            "filter_form": form,
            "filter_query": query.urlencode(),
            "filtered": any(
                filters.get(name) for name in ("agent", "status", "q", "since", "until")
            ),
        },
    )


@login_required
@require_GET
def run_detail(request, run_id: int):
    run = _visible_run(request, run_id)
    context = timeline_context(run, user=request.user)
    context["is_owner"] = run.owner_id == request.user.pk
    return render(request, "agents/run_detail.html", context)


@login_required
@require_POST
def run_cancel(request, run_id: int):
    run = _own_run(request, run_id)
    try:
        services.run_cancel(run=run)
    except ValidationError as error:
        for message_list in error.message_dict.values():
            for message in message_list:
                messages.info(request, message)
    if request.htmx:
        # The websocket brings the new status to every open page.
        return HttpResponse(status=204)
    return redirect(run)


@login_required
@require_POST
def run_delete(request, run_id: int):
    run = _own_run(request, run_id)
    services.run_delete(run=run)
    messages.success(request, _("Deleted the run."))
    return _go(request, "agents:runs")


# ---------- Provider keys ----------


def _provider_keys_page(request, *, errors=None, status=200):
    data = request.POST if request.method == "POST" else {}
    context = {
        "keys": selectors.provider_key_list(user=request.user),
        "providers": Provider.choices,
        "errors": errors or {},
        "form_provider": data.get("provider", ""),
        "form_base_url": data.get("base_url", ""),
        "form_deployments": data.get("deployments", ""),
    }
    return render(request, "agents/provider_keys.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def provider_keys(request):
    if request.method == "GET":
        return _provider_keys_page(request)
    provider = request.POST.get("provider", "")
    try:
        provider_key = services.provider_key_save(
            owner=request.user,
            provider=provider,
            key=request.POST.get("key"),
            base_url=request.POST.get("base_url", ""),
            deployments=request.POST.get("deployments", ""),
        )
    except ValidationError as error:
        return _provider_keys_page(request, errors=error.message_dict, status=400)
    messages.success(
        request,
        _("Saved your %(provider)s key %(masked)s.")
        % {
            "provider": provider_key.get_provider_display(),
            "masked": provider_key.masked,
        },
    )
    return redirect("agents:provider_keys")


def _own_provider_key(request, key_id):
    provider_key = selectors.provider_key_get(user=request.user, key_id=key_id)
    if provider_key is None:
        raise Http404
    return provider_key


@login_required
@require_POST
def provider_key_test(request, key_id: int):
    provider_key = services.provider_key_test(
        provider_key=_own_provider_key(request, key_id)
    )
    level = messages.SUCCESS if provider_key.test_ok else messages.ERROR
    messages.add_message(request, level, provider_key.test_message)
    return redirect("agents:provider_keys")


@login_required
@require_POST
def provider_key_delete(request, key_id: int):
    provider_key = _own_provider_key(request, key_id)
    masked = provider_key.masked
    services.provider_key_delete(provider_key=provider_key)
    messages.success(request, _("Removed the key %(masked)s.") % {"masked": masked})
    return redirect("agents:provider_keys")


# ---------- Conversations ----------


@login_required
@require_GET
def conversation_list(request):
    conversations = selectors.conversation_list_mine(user=request.user)
    page = Paginator(conversations, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "agents/conversation_list.html", {"page": page})


def _visible_conversation(request, conversation_id) -> Conversation:
    conversation = selectors.conversation_get_visible(
        user=request.user, conversation_id=conversation_id
    )
    if conversation is None:
        raise Http404
    return conversation


def _own_conversation(request, conversation_id) -> Conversation:
    conversation = _visible_conversation(request, conversation_id)
    if conversation.owner_id != request.user.pk:
        raise PermissionDenied
    return conversation


def _conversation_page(request, conversation, *, status=200, **extra):
    turns = list(selectors.conversation_turns(conversation=conversation))
    live = turns[-1] if turns and not turns[-1].is_finished else None
    context = {
        "conversation": conversation,
        "turns": turns,
        "finished_turns": [turn for turn in turns if turn.is_finished],
        "is_owner": conversation.owner_id == request.user.pk,
        "live_run": live,
        **extra,
    }
    if live is not None:
        context.update(timeline_context(live, user=request.user))
    return render(request, "agents/conversation_detail.html", context, status=status)


@login_required
@require_GET
def conversation_detail(request, conversation_id: int):
    return _conversation_page(request, _visible_conversation(request, conversation_id))


@login_required
@require_POST
def conversation_continue(request, conversation_id: int):
    conversation = _own_conversation(request, conversation_id)
    text = request.POST.get("input", "")
    agent = selectors.agent_get_visible(
        user=request.user, agent_id=conversation.agent_id
    )
    if agent is None:
        raise Http404
    try:
        services.run_start(
            agent=agent, user=request.user, input=text, conversation=conversation
        )
    except ValidationError as error:
        problems = [m for messages_ in error.message_dict.values() for m in messages_]
        return _conversation_page(
            request,
            conversation,
            status=400,
            continue_errors=problems,
            continue_input=text,
        )
    return redirect(conversation)


@login_required
@require_POST
def conversation_rename(request, conversation_id: int):
    conversation = _own_conversation(request, conversation_id)
    try:
        services.conversation_rename(
            conversation=conversation, title=request.POST.get("title")
        )
    except ValidationError as error:
        conversation.refresh_from_db()
        return _conversation_page(
            request,
            conversation,
            status=400,
            rename_errors=error.message_dict.get("title", []),
        )
    return redirect(conversation)


@login_required
@require_POST
def conversation_delete(request, conversation_id: int):
    conversation = _own_conversation(request, conversation_id)
    services.conversation_delete(conversation=conversation)
    messages.success(request, _("Deleted the conversation."))
    return redirect("agents:conversations")


@login_required
@require_POST
def runs_delete(request):
    """Delete the runs ticked on the runs page (only the user's own)."""
    count = services.run_delete_many(
        user=request.user, run_ids=request.POST.getlist("runs")
    )
    messages.success(
        request,
        ngettext("Deleted %(n)d run.", "Deleted %(n)d runs.", count) % {"n": count},
    )
    return redirect("agents:runs")


# ---------- Tools ----------


@login_required
@require_GET
def tool_list(request):
    disabled = selectors.disabled_tool_names()
    usage = selectors.tool_usage(user=request.user)
    tools = []
    for tool in all_tools():
        sdk_tool = tool.as_sdk_tool()
        tools.append(
            {
                "kind": "builtin",
                "name": tool.name,
                "description": tool.description,
                "parameters": sdk_tool.params_json_schema,
                "enabled": tool.name not in disabled,
            }
        )
    for tool in selectors.custom_tool_list(user=request.user):
        tools.append(
            {
                "kind": "custom",
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
                "enabled": True,
                "id": tool.pk,
            }
        )
    for tool in tools:
        stats = usage.get(tool["name"], {})
        tool["calls"] = stats.get("calls", 0)
        tool["error_rate"] = stats.get("error_rate", 0.0)
    return render(request, "agents/tool_list.html", {"tools": tools})


@login_required
@require_POST
def tool_toggle(request, name: str):
    enabled = request.POST.get("enabled") == "1"
    try:
        services.tool_set_enabled(name=name, enabled=enabled, user=request.user)
    except ValidationError:
        raise Http404 from None
    state = _("enabled") if enabled else _("disabled")
    messages.success(
        request, _("%(name)s is %(state)s.") % {"name": name, "state": state}
    )
    return redirect("agents:tools")


def _own_custom_tool(request, tool_id) -> CustomTool:
    """Only the owner sees a webhook tool: for anyone else it does not exist."""
    tool = selectors.custom_tool_get(user=request.user, tool_id=tool_id)
    if tool is None:
        raise Http404
    return tool


def _custom_tool_page(request, form: CustomToolForm, *, tool=None, status=200):
    context = {
        "form": form,
        "tool": tool,
        "used_by": (
            list(selectors.custom_tool_agents(tool=tool)) if tool is not None else []
        ),
    }
    return render(request, "agents/custom_tool_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def custom_tool_create(request):
    if request.method == "GET":
        return _custom_tool_page(request, CustomToolForm(owner=request.user))
    form = CustomToolForm(request.POST, owner=request.user)
    if form.is_valid():
        try:
            tool = services.custom_tool_save(
                owner=request.user, data=form.service_data()
            )
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
        else:
            messages.success(
                request,
                _(
                    "Saved the webhook tool %(name)s. Tick it in an agent's tools "
                    "to let the agent call it."
                )
                % {"name": tool.name},
            )
            return redirect("agents:tools")
    return _custom_tool_page(request, form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def custom_tool_edit(request, tool_id: int):
    tool = _own_custom_tool(request, tool_id)
    if request.method == "GET":
        return _custom_tool_page(
            request, CustomToolForm(owner=request.user, tool=tool), tool=tool
        )
    form = CustomToolForm(request.POST, owner=request.user, tool=tool)
    if form.is_valid():
        try:
            tool = services.custom_tool_save(
                owner=request.user, tool=tool, data=form.service_data()
            )
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
            # The service set the refused values on the instance; show the
            # stored tool (its name in the title, its secret state) instead.
            tool.refresh_from_db()
        else:
            messages.success(
                request, _("Saved the webhook tool %(name)s.") % {"name": tool.name}
            )
            return redirect("agents:tools")
    return _custom_tool_page(request, form, tool=tool, status=400)


@login_required
@require_POST
def custom_tool_delete(request, tool_id: int):
    tool = _own_custom_tool(request, tool_id)
    name = tool.name
    services.custom_tool_delete(tool=tool)
    messages.success(request, _("Deleted the webhook tool %(name)s.") % {"name": name})
    return _go(request, "agents:tools")


# ---------- Playground ----------


def _playground_form(request, data=None) -> PlaygroundForm:
    playground = selectors.playground_agent(user=request.user)
    initial = {"model": "local/demo"}
    if playground is not None:
        initial = {
            "model": playground.model,
            "instructions": playground.instructions,
            "tools": list(playground.tools),
            "temperature": (playground.model_settings or {}).get("temperature"),
        }
    return PlaygroundForm(
        data,
        initial=initial,
        models=selectors.model_choices(user=request.user),
        availability=selectors.provider_availability(user=request.user),
        tools=[
            tool
            for tool in _tool_choices(request, None)
            if not tool.name.startswith(definitions.AGENT_TOOL_PREFIX)
        ],
    )


def _playground_turns(conversation_id, *, exclude_run=None) -> list[Run]:
    """The earlier turns of the playground conversation, oldest first."""
    if not conversation_id:
        return []
    runs = (
        Run.objects.filter(conversation_id=conversation_id)
        .select_related("version")
        .order_by("pk")
    )
    if exclude_run is not None:
        runs = runs.exclude(pk=exclude_run.pk)
    return list(runs)


@login_required
@require_http_methods(["GET", "POST"])
def playground(request):
    """Chat with any available model: settings on the left, the chat beside."""
    form = _playground_form(request, request.POST if request.method == "POST" else None)
    run = None
    conversation_id = None
    if request.method == "POST" and form.is_valid():
        conversation = None
        conversation_id = form.cleaned_data.get("conversation")
        if conversation_id:
            conversation = selectors.conversation_get_visible(
                user=request.user, conversation_id=conversation_id
            )
            if conversation is None or conversation.owner_id != request.user.pk:
                raise Http404
        try:
            run = services.playground_run(
                user=request.user,
                data=form.definition_data(),
                input=form.cleaned_data["input"],
                conversation=conversation,
            )
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
    if run is not None:
        conversation_id = run.conversation_id
        # The next message continues this chat; the message box starts empty.
        data = request.POST.copy()
        data["input"] = ""
        data["conversation"] = str(conversation_id)
        form = _playground_form(request, data)
        form.is_valid()
    context = {
        "form": form,
        "turns": _playground_turns(conversation_id, exclude_run=run),
        "panel_run": (
            timeline_context(run, user=request.user) if run is not None else None
        ),
        "conversation_id": conversation_id,
        "tool_list": [
            (form["tools"][index], SimpleNamespace(name=name, description=label))
            for index, (name, label) in enumerate(
                (name, form.tool_descriptions.get(name, ""))
                for name, _label in form.fields["tools"].choices
            )
        ],
        "save_form": PlaygroundSaveForm(),
        "has_playground": selectors.playground_agent(user=request.user) is not None,
    }
    status = 400 if request.method == "POST" and run is None else 200
    template = "agents/playground.html"
    if request.htmx and request.method == "POST":
        template = "agents/partials/playground_main.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def playground_save(request):
    form = PlaygroundSaveForm(request.POST)
    if form.is_valid():
        try:
            agent = services.playground_save(
                user=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as error:
            for messages_ in error.message_dict.values():
                for message in messages_:
                    messages.error(request, message)
            return redirect("agents:playground")
        messages.success(
            request,
            _("Saved the playground as %(name)s. Refine it here.")
            % {"name": agent.name},
        )
        return redirect("agents:edit", agent.pk)
    for message in form.errors.get("name", []):
        messages.error(request, message)
    return redirect("agents:playground")
