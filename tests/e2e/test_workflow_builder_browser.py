"""The issue's whole flow in a real browser, over Daphne with a real worker:
build a workflow visually (a router, a parallel node with an aggregate, a
reviewer loop and a human approval), validate and save it, run it, approve
when asked, watch it finish live, and find every node's steps on the run's
page (the parallel branches side by side)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from agents import services
from agents.models import Run
from tests.community.factories import PASSWORD, UserFactory
from workflows.models import Workflow

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

TIMEOUT = 30_000


@pytest.fixture(autouse=True)
def _default_timeouts(page: Page):
    page.set_default_timeout(TIMEOUT)
    expect.set_options(timeout=TIMEOUT)


def click_node(page: Page, node_id: str) -> None:
    """Click a node where the canvas draws it, as a person would."""
    canvas = page.locator("#workflow-graph")
    canvas.scroll_into_view_if_needed()
    # Cytoscape keeps where its container is and how large, and catches up
    # 100 ms after the page around it moves (a debounce): a person never
    # clicks that soon after a change, a test can, and its click then lands
    # off the node (once in a parallel run no edge was made). Caught up here.
    position = page.evaluate(
        """id => {
            const cy = window.agentryWorkflowBuilder.cy;
            cy.resize();
            return cy.getElementById(id).renderedPosition();
        }""",
        node_id,
    )
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + position["x"], box["y"] + position["y"])


def add_node(page: Page, kind: str, node_id: str, **choices) -> None:
    """Add a node with the toolbar and set it up in the side panel."""
    page.locator("#node-kind").select_option(kind)
    page.get_by_role("button", name="Add node").click()
    form = page.locator("#node-panel form")
    form.get_by_label("Id", exact=True).fill(node_id)
    for label, value in choices.items():
        form.get_by_label(label.replace("_", " "), exact=False).first.select_option(
            label=value
        )
    form.get_by_role("button", name="Apply").click()
    expect(page.locator(f"#node-panel form[data-node={node_id}]")).to_be_visible()


def test_build_run_approve_and_inspect_a_workflow(
    page: Page, asgi_server, start_worker, demo_model, screenshot
):
    start_worker()
    base = asgi_server.url
    member = UserFactory(credits=100)
    for name in ("Classifier", "Solver", "Explainer", "Writer", "Reviewer"):
        services.agent_create(
            owner=member, data={"name": name, "instructions": f"You are {name}."}
        )

    page.goto(f"{base}/accounts/login/")
    page.locator("#id_login").fill(member.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Sign in").click()

    page.goto(f"{base}/workflows/")
    page.get_by_role("button", name="New workflow").click()
    page.get_by_label("Name").fill("Homework helper")

    add_node(page, "agent", "solve", Agent="Solver · local/demo")
    add_node(page, "agent", "explain", Agent="Explainer · local/demo")
    add_node(page, "agent", "write", Agent="Writer · local/demo")
    add_node(page, "agent", "review", Agent="Reviewer · local/demo")

    add_node(page, "router", "route", Classifier_agent="Classifier · local/demo")
    form = page.locator("#node-panel form")
    form.locator(".route-category").last.fill("math")
    form.locator(".route-row select").last.select_option("solve")
    form.get_by_label("Default branch").select_option("explain")
    form.get_by_role("button", name="Apply").click()

    add_node(page, "parallel", "fan")
    form = page.locator("#node-panel form")
    form.get_by_label("solve (agent)").check()
    form.get_by_label("explain (agent)").check()
    form.get_by_role("button", name="Apply").click()

    add_node(page, "aggregate", "join")
    add_node(page, "loop", "polish", Worker="write (agent)")
    form = page.locator("#node-panel form")
    form.get_by_label("Reviewer (an agent node)").select_option("review")
    form.get_by_role("button", name="Apply").click()

    add_node(page, "approval", "ok")
    page.locator("#node-panel form").get_by_label("What to ask").fill("Send it?")
    page.locator("#node-panel form").get_by_role("button", name="Apply").click()

    page.get_by_role("button", name="Tidy").click()
    page.get_by_role("button", name="Connect").click()
    for source, target in (("route", "fan"), ("fan", "join"), ("join", "polish")):
        click_node(page, source)
        click_node(page, target)
    click_node(page, "polish")
    click_node(page, "ok")
    page.get_by_role("button", name="Connect").click()
    expect(page.locator("#graph-json")).to_have_value(re.compile(r'"to": "ok"'))
    click_node(page, "route")
    expect(page.locator("#node-panel form[data-node=route]")).to_be_visible()
    page.get_by_role("button", name="Start here").click()
    page.get_by_role("button", name="Tidy").click()

    # Validation first finds what is wrong, then that all is well.
    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#builder-messages")).to_contain_text("The graph is valid")
    screenshot(page, "builder")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_have_text("Homework helper")
    workflow = Workflow.objects.get(owner=member)
    assert workflow.graph["entry"] == "route"
    assert {n["kind"] for n in workflow.graph["nodes"]} == {
        "agent", "router", "parallel", "aggregate", "loop", "approval",
    }  # fmt: skip
    assert len(workflow.graph["edges"]) == 4

    page.get_by_label("Input").fill("A math question: what is 12 times 7?")
    page.get_by_role("button", name="Run workflow").click()
    approval = page.locator("article.step-approval-requested")
    expect(approval).to_contain_text("Send it?")
    expect(page.locator("#run-status [data-status=paused]")).to_be_visible()
    # Live, the branches' steps went into their lanes, side by side.
    lanes = page.locator(".lanes .lane")
    expect(lanes).to_have_count(2)
    expect(lanes.nth(0)).to_contain_text("Solver")
    expect(lanes.nth(1)).to_contain_text("Explainer")
    screenshot(page, "waiting")
    approval.get_by_role("button", name="Approve").click()
    expect(page.locator("#run-status [data-status=completed]")).to_be_visible()
    expect(page.locator("article.step-approval-approved")).to_contain_text(
        f"approved by {member.username}"
    )

    # Later: every node's steps are on the run's page.
    run = Run.objects.get(workflow_run__workflow=workflow)
    page.goto(f"{base}/runs/{run.pk}/")
    expect(page.locator("article.step-node[data-event=routed]")).to_contain_text(
        "routed to solve"
    )
    # The offline reviewer never passes a refusal: each round asked to revise.
    reviewed = page.locator("article.step-node[data-event=reviewed]")
    expect(reviewed).to_have_count(3)
    expect(reviewed.first).to_contain_text("the work is not an answer")
    expect(page.locator(".lanes .lane").nth(0)).to_contain_text("Solver")
    # The writer's is the offline model's honest answer: it cannot write prose.
    expect(page.locator("#run-result")).to_contain_text(
        "The offline model (local/demo) cannot write"
    )
    screenshot(page, "run")
    # One node's steps at a time: the reviewer's, then the solver's (inside
    # its lane of the parallel node).
    page.locator("#node-filter").select_option("review")
    expect(page.locator("li.step[data-node=review]").first).to_be_visible()
    expect(page.locator("li.step[data-node=write]").first).to_be_hidden()
    page.locator("#node-filter").select_option("solve")
    expect(page.locator("li.step[data-node=solve]").first).to_be_visible()
    expect(page.locator("li.step[data-node=explain]").first).to_be_hidden()
    expect(page.locator("li.step[data-node=review]").first).to_be_hidden()


def test_a_new_agent_node_waits_for_a_chosen_agent_mine_listed_first(
    page: Page, asgi_server
):
    """A new agent node runs nobody's agent until one is chosen; a stranger's
    public agent (first by name) is offered apart, after the person's own."""
    member = UserFactory()
    services.agent_create(owner=member, data={"name": "Mine", "instructions": "Hi."})
    stranger = UserFactory()
    services.agent_create(
        owner=stranger,
        data={"name": "Aardvark", "instructions": "Hi.", "visibility": "public"},
    )
    page.goto(f"{asgi_server.url}/accounts/login/")
    page.locator("#id_login").fill(member.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Sign in").click()
    page.goto(f"{asgi_server.url}/workflows/new/")

    page.locator("#node-kind").select_option("agent")
    page.get_by_role("button", name="Add node").click()
    choice = page.locator("#node-panel form").get_by_role(
        "combobox", name="Agent", exact=True
    )
    expect(choice).to_have_value("")
    expect(choice.locator("option:checked")).to_have_text("Choose an agent…")
    groups = choice.locator("optgroup")
    expect(groups).to_have_count(2)
    expect(groups.nth(0)).to_have_attribute("label", "Your agents")
    expect(groups.nth(0).locator("option")).to_have_text(["Mine · local/demo"])
    expect(groups.nth(1)).to_have_attribute("label", "Shared with you / public")
    expect(groups.nth(1).locator("option")).to_have_text(
        [f"Aardvark ({stranger.username}) · local/demo"]
    )

    page.get_by_role("button", name="Validate").click()
    expect(page.locator("#builder-messages")).to_contain_text(
        "choose the agent this node runs"
    )
