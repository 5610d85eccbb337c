// The workflow builder (/workflows/new/, /workflows/<id>/edit/) and the
// read-only graph on a workflow's page, drawn with Cytoscape.js (vendored).
//
// The graph is the plain JSON the API takes ({entry, nodes, edges}); the
// canvas only draws it. Solid arrows are edges (what runs after what); dashed
// lines are derived from the nodes' own fields (a chain's steps, a parallel
// node's branches, a router's routes, a loop's worker and reviewer) and change
// when those fields do. Validate and Save go through the API, so the builder
// and programs are checked by the same code.
(function () {
  "use strict";

  var KIND_COLOURS = {
    agent: "#1e88e5",
    sequential: "#6d4c41",
    parallel: "#8e24aa",
    aggregate: "#00897b",
    router: "#f4511e",
    loop: "#3949ab",
    approval: "#c0ca33",
  };
  var ID_PATTERN = /^[a-z][a-z0-9_-]{0,39}$/;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      if (key === "text") {
        node.textContent = attributes[key];
      } else if (key in node && key !== "list") {
        node[key] = attributes[key];
      } else {
        node.setAttribute(key, attributes[key]);
      }
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  // The lines drawn for what a node runs inside it.
  function references(node) {
    var found = [];
    if (node.kind === "sequential") {
      (node.steps || []).forEach(function (id, index) {
        found.push({ to: id, label: "step " + (index + 1) });
      });
    } else if (node.kind === "parallel") {
      (node.branches || []).forEach(function (id) {
        found.push({ to: id, label: "branch" });
      });
    } else if (node.kind === "router") {
      Object.keys(node.routes || {}).forEach(function (category) {
        found.push({ to: node.routes[category], label: category });
      });
      if (node["default"]) found.push({ to: node["default"], label: "default" });
    } else if (node.kind === "loop") {
      if (node.worker) found.push({ to: node.worker, label: "worker" });
      if (node.reviewer) found.push({ to: node.reviewer, label: "reviewer" });
    }
    return found;
  }

  function nodeLabel(node, agentNames) {
    var lines = [node.label || node.id, node.kind];
    var agentId = node.agent;
    if (agentId && agentNames[String(agentId)]) {
      lines[1] += " · " + agentNames[String(agentId)];
    }
    return lines.join("\n");
  }

  function elements(graph, agentNames) {
    var items = [];
    var ids = {};
    (graph.nodes || []).forEach(function (node) {
      ids[node.id] = true;
      items.push({
        group: "nodes",
        data: {
          id: node.id,
          label: nodeLabel(node, agentNames),
          kind: node.kind,
          colour: KIND_COLOURS[node.kind] || "#607d8b",
          entry: graph.entry === node.id ? 1 : 0,
        },
        position: node.position ? { x: node.position.x, y: node.position.y } : undefined,
      });
    });
    (graph.edges || []).forEach(function (edge, index) {
      if (!ids[edge.from] || !ids[edge.to]) return;
      items.push({
        group: "edges",
        data: { id: "edge-" + index, source: edge.from, target: edge.to, flow: 1 },
      });
    });
    (graph.nodes || []).forEach(function (node) {
      references(node).forEach(function (reference, index) {
        if (!ids[reference.to]) return;
        items.push({
          group: "edges",
          data: {
            id: "ref-" + node.id + "-" + index,
            source: node.id,
            target: reference.to,
            label: reference.label,
            reference: 1,
          },
          selectable: false,
        });
      });
    });
    return items;
  }

  var STYLE = [
    {
      selector: "node",
      style: {
        shape: "round-rectangle",
        width: 150,
        height: 48,
        "background-color": "#fff",
        "border-width": 2,
        "border-color": "data(colour)",
        label: "data(label)",
        "text-wrap": "wrap",
        "text-max-width": 140,
        "text-valign": "center",
        "font-size": 11,
        color: "#263238",
      },
    },
    { selector: "node[entry = 1]", style: { "border-width": 5 } },
    { selector: "node:selected", style: { "background-color": "#e3f2fd" } },
    { selector: "node.source", style: { "background-color": "#fff3e0" } },
    { selector: "node.has-error", style: { "border-color": "#d32f2f", "border-style": "dashed" } },
    {
      selector: "edge[flow = 1]",
      style: {
        width: 2,
        "line-color": "#546e7a",
        "target-arrow-color": "#546e7a",
        "target-arrow-shape": "triangle",
        "curve-style": "bezier",
      },
    },
    { selector: "edge:selected", style: { "line-color": "#1e88e5", "target-arrow-color": "#1e88e5", width: 4 } },
    {
      selector: "edge[reference = 1]",
      style: {
        width: 1,
        "line-style": "dashed",
        "line-color": "#90a4ae",
        "target-arrow-shape": "vee",
        "target-arrow-color": "#90a4ae",
        "curve-style": "bezier",
        label: "data(label)",
        "font-size": 9,
        color: "#607d8b",
        "text-background-color": "#fff",
        "text-background-opacity": 1,
      },
    },
  ];

  // Top to bottom from the nodes nothing leads to (the entry first), each
  // node below what leads to it: edges and what a node runs inside it.
  function tidyLayout(graph) {
    var led = {};
    (graph.edges || []).forEach(function (edge) {
      led[edge.to] = true;
    });
    (graph.nodes || []).forEach(function (node) {
      references(node).forEach(function (reference) {
        led[reference.to] = true;
      });
    });
    var roots = (graph.nodes || [])
      .filter(function (node) {
        return !led[node.id];
      })
      .map(function (node) {
        return node.id;
      });
    if (graph.entry && roots.indexOf(graph.entry) === -1 && !led[graph.entry]) roots.unshift(graph.entry);
    return {
      name: "breadthfirst",
      directed: true,
      roots: roots.length ? roots.map(function (id) { return "#" + id; }).join(", ") : undefined,
      spacingFactor: 1.25,
      padding: 20,
    };
  }

  function layoutFor(graph) {
    var placed = (graph.nodes || []).every(function (node) {
      return node.position;
    });
    return placed ? { name: "preset", padding: 20 } : tidyLayout(graph);
  }

  // ---------- The read-only graph on a workflow's page ----------

  function readOnly(container) {
    var data = JSON.parse(document.getElementById("workflow-graph-data").textContent);
    var graph = data.graph || { nodes: [], edges: [] };
    window.cytoscape({
      container: container,
      elements: elements(graph, data.agents || {}),
      style: STYLE,
      layout: layoutFor(graph),
      autoungrabify: true,
      boxSelectionEnabled: false,
      maxZoom: 1.5,
    });
  }

  // ---------- The builder ----------

  function builder(container) {
    var data = JSON.parse(document.getElementById("builder-data").textContent);
    var agentNames = {};
    data.agents.forEach(function (agent) {
      agentNames[String(agent.id)] = agent.name;
    });
    var graph = data.graph || { entry: "", nodes: [], edges: [] };
    graph.edges = graph.edges || [];
    var selectedId = null;
    var connectFrom = null;
    var connecting = false;
    var hint = document.getElementById("builder-hint");
    var panel = document.getElementById("node-panel");
    var messages = document.getElementById("builder-messages");
    var jsonBox = document.getElementById("graph-json");

    var cy = window.cytoscape({
      container: container,
      elements: elements(graph, agentNames),
      style: STYLE,
      layout: layoutFor(graph),
      boxSelectionEnabled: false,
      maxZoom: 1.5,
    });
    window.agentryWorkflowBuilder = {
      cy: cy,
      graph: function () {
        return cleanGraph();
      },
    };

    function node(id) {
      return graph.nodes.filter(function (each) {
        return each.id === id;
      })[0];
    }

    function keepPositions() {
      cy.nodes().forEach(function (drawn) {
        var found = node(drawn.id());
        if (found) {
          var position = drawn.position();
          found.position = { x: Math.round(position.x), y: Math.round(position.y) };
        }
      });
    }

    function redraw() {
      keepPositions();
      cy.elements().remove();
      cy.add(elements(graph, agentNames));
      graph.nodes.forEach(function (each) {
        if (!each.position) {
          var extent = cy.extent();
          each.position = { x: Math.round(extent.x1 + 120), y: Math.round(extent.y1 + 60) };
          cy.getElementById(each.id).position(each.position);
        }
      });
      if (selectedId) cy.getElementById(selectedId).select();
      jsonBox.value = JSON.stringify(cleanGraph(), null, 2);
    }

    function say(text) {
      hint.textContent = text || "";
    }

    function show(kind, lines) {
      messages.innerHTML = "";
      if (!lines.length) return;
      var box = el("div", { className: kind === "error" ? "form-errors" : "form-success", role: kind === "error" ? "alert" : "status" });
      var list = el("ul");
      lines.forEach(function (line) {
        list.appendChild(el("li", { text: line }));
      });
      box.appendChild(list);
      messages.appendChild(box);
    }

    function markErrors(lines) {
      cy.nodes().removeClass("has-error");
      lines.forEach(function (line) {
        graph.nodes.forEach(function (each) {
          var pattern = new RegExp("(^|[\\s(→:])" + each.id.replace(/[-]/g, "\\-") + "([\\s:),.→]|$)");
          if (pattern.test(line)) cy.getElementById(each.id).addClass("has-error");
        });
      });
    }

    // The graph without empty optional fields, positions rounded.
    function cleanGraph() {
      keepPositions();
      return {
        entry: graph.entry || "",
        nodes: graph.nodes.map(function (each) {
          var copy = {};
          Object.keys(each).forEach(function (key) {
            var value = each[key];
            if (value === "" || value === null || value === undefined) return;
            copy[key] = value;
          });
          return copy;
        }),
        edges: graph.edges.map(function (edge) {
          return { from: edge.from, to: edge.to };
        }),
      };
    }

    function freshId(kind) {
      var number = 1;
      while (node(kind + number)) number += 1;
      return kind + number;
    }

    function addNode(kind) {
      // A new node runs no agent until the person chooses one: defaulting to
      // the first in the list could pick a stranger's public agent unseen.
      var made = { id: freshId(kind), kind: kind };
      if (kind === "agent") made.agent = null;
      if (kind === "sequential") made.steps = [];
      if (kind === "parallel") made.branches = [];
      if (kind === "aggregate") made.mode = "join";
      if (kind === "router") {
        made.agent = null;
        made.routes = {};
      }
      if (kind === "loop") {
        made.worker = "";
        made.reviewer = "";
        made.max_iterations = 3;
      }
      if (kind === "approval") made.message = "";
      var extent = cy.extent();
      made.position = {
        x: Math.round((extent.x1 + extent.x2) / 2 + (graph.nodes.length % 5) * 20),
        y: Math.round((extent.y1 + extent.y2) / 2 + (graph.nodes.length % 5) * 20),
      };
      graph.nodes.push(made);
      if (!graph.entry) graph.entry = made.id;
      selectedId = made.id;
      redraw();
      renderPanel();
    }

    function removeNode(id) {
      graph.nodes = graph.nodes.filter(function (each) {
        return each.id !== id;
      });
      graph.edges = graph.edges.filter(function (edge) {
        return edge.from !== id && edge.to !== id;
      });
      graph.nodes.forEach(function (each) {
        if (each.steps) each.steps = each.steps.filter(function (s) { return s !== id; });
        if (each.branches) each.branches = each.branches.filter(function (b) { return b !== id; });
        if (each.routes) {
          Object.keys(each.routes).forEach(function (category) {
            if (each.routes[category] === id) delete each.routes[category];
          });
        }
        if (each["default"] === id) delete each["default"];
        if (each.worker === id) each.worker = "";
        if (each.reviewer === id) each.reviewer = "";
      });
      if (graph.entry === id) graph.entry = graph.nodes.length ? graph.nodes[0].id : "";
    }

    function renameNode(old, fresh) {
      graph.nodes.forEach(function (each) {
        if (each.id === old) each.id = fresh;
        if (each.steps) each.steps = each.steps.map(function (s) { return s === old ? fresh : s; });
        if (each.branches) each.branches = each.branches.map(function (b) { return b === old ? fresh : b; });
        if (each.routes) {
          Object.keys(each.routes).forEach(function (category) {
            if (each.routes[category] === old) each.routes[category] = fresh;
          });
        }
        ["default", "worker", "reviewer"].forEach(function (key) {
          if (each[key] === old) each[key] = fresh;
        });
      });
      graph.edges.forEach(function (edge) {
        if (edge.from === old) edge.from = fresh;
        if (edge.to === old) edge.to = fresh;
      });
      if (graph.entry === old) graph.entry = fresh;
      selectedId = fresh;
    }

    // ---------- The side panel ----------

    var helpCount = 0;

    // A labelled control; its help text is outside the label (so the label
    // alone names the control) and linked with aria-describedby.
    function field(labelText, input, help) {
      var wrapper = el("div", { className: "node-field" }, [
        el("label", {}, [document.createTextNode(labelText), input]),
      ]);
      if (help) {
        helpCount += 1;
        var id = "node-help-" + helpCount;
        input.setAttribute("aria-describedby", id);
        wrapper.appendChild(el("small", { className: "muted", id: id, text: help }));
      }
      return wrapper;
    }

    // The person's own agents, then others' shared or public ones in a group
    // of their own (the page lists them in that order).
    function agentSelect(value, allowNone) {
      var select = el("select");
      select.appendChild(el("option", { value: "", text: allowNone ? "—" : "Choose an agent…" }));
      var groups = {
        mine: el("optgroup", { label: "Your agents" }),
        shared: el("optgroup", { label: "Shared with you / public" }),
      };
      data.agents.forEach(function (agent) {
        var text = agent.name + (agent.mine ? "" : " (" + agent.owner + ")") + " · " + agent.model;
        groups[agent.mine ? "mine" : "shared"].appendChild(
          el("option", { value: String(agent.id), text: text })
        );
      });
      ["mine", "shared"].forEach(function (name) {
        if (groups[name].children.length) select.appendChild(groups[name]);
      });
      select.value = value ? String(value) : "";
      return select;
    }

    function nodeSelect(value, filter, allowNone) {
      var select = el("select");
      if (allowNone) select.appendChild(el("option", { value: "", text: "—" }));
      graph.nodes.forEach(function (each) {
        if (each.id === selectedId || (filter && !filter(each))) return;
        select.appendChild(el("option", { value: each.id, text: each.id + " (" + each.kind + ")" }));
      });
      select.value = value || "";
      return select;
    }

    function nodeChecklist(legend, chosen) {
      var box = el("fieldset", { className: "node-checklist" }, [el("legend", { text: legend })]);
      graph.nodes.forEach(function (each) {
        if (each.id === selectedId) return;
        var checkbox = el("input", { type: "checkbox", value: each.id });
        checkbox.checked = chosen.indexOf(each.id) !== -1;
        box.appendChild(el("label", {}, [checkbox, document.createTextNode(" " + each.id + " (" + each.kind + ")")]));
      });
      return box;
    }

    function renderPanel() {
      panel.innerHTML = "";
      var current = selectedId && node(selectedId);
      if (!current) {
        panel.appendChild(el("p", { className: "muted", text: "Click a node to set it up." }));
        return;
      }
      var form = el("form", { className: "node-form" });
      form.setAttribute("data-node", current.id);
      form.appendChild(el("h3", { text: current.kind + (graph.entry === current.id ? " · start" : "") }));
      var idInput = el("input", { type: "text", name: "id", value: current.id, required: true });
      form.appendChild(field("Id", idInput, "Lowercase letters, digits, - and _; other nodes refer to it."));
      var labelInput = el("input", { type: "text", name: "label", value: current.label || "", maxLength: 100 });
      form.appendChild(field("Label", labelInput));
      var controls = {};

      if (current.kind === "agent" || current.kind === "router" || current.kind === "aggregate") {
        controls.agent = agentSelect(current.agent, current.kind === "aggregate");
        controls.agent.name = "agent";
        form.appendChild(field(current.kind === "router" ? "Classifier agent" : current.kind === "aggregate" ? "Merging agent (mode: agent)" : "Agent", controls.agent));
      }
      if (current.kind === "agent") {
        controls.retries = el("input", { type: "number", name: "retries", min: 0, max: 5, value: current.retries || 0 });
        form.appendChild(field("Retries (with backoff)", controls.retries));
        controls.fallback = agentSelect(current.fallback_agent, true);
        controls.fallback.name = "fallback_agent";
        form.appendChild(field("Fallback agent", controls.fallback, "Runs when the retries are spent."));
        controls.input = el("textarea", { name: "input", rows: 3, value: current.input || "" });
        form.appendChild(field("Input template (optional)", controls.input, "{{input}}: the workflow's input; {{previous}}: this node's input; {{node id}}: that node's output."));
      }
      if (current.kind === "sequential") {
        controls.steps = el("input", { type: "text", name: "steps", value: (current.steps || []).join(", ") });
        form.appendChild(field("Steps, in order (node ids, comma-separated)", controls.steps));
      }
      if (current.kind === "parallel") {
        controls.branches = nodeChecklist("Branches (run at once)", current.branches || []);
        form.appendChild(controls.branches);
      }
      if (current.kind === "aggregate") {
        controls.mode = el("select", { name: "mode" }, [
          el("option", { value: "join", text: "Join the outputs" }),
          el("option", { value: "agent", text: "An agent merges them" }),
        ]);
        controls.mode.value = current.mode || "join";
        form.appendChild(field("Mode", controls.mode));
      }
      if (current.kind === "router") {
        var routes = el("div", { className: "route-rows" });
        Object.keys(current.routes || {}).concat([""]).forEach(function (category) {
          var row = el("div", { className: "route-row" }, [
            el("input", { type: "text", className: "route-category", placeholder: "category", value: category }),
            nodeSelect(category ? current.routes[category] : "", null, true),
          ]);
          routes.appendChild(row);
        });
        controls.routes = routes;
        form.appendChild(field("Routes: category → node (an empty row adds one)", routes));
        controls.defaultNode = nodeSelect(current["default"], null, true);
        form.appendChild(field("Default branch", controls.defaultNode, "When no category matches, or the classifier is unsure."));
        controls.threshold = el("input", { type: "number", name: "min_confidence", min: 0, max: 1, step: 0.05, value: current.min_confidence === undefined ? 0.5 : current.min_confidence });
        form.appendChild(field("Least confidence to follow a route", controls.threshold));
      }
      if (current.kind === "loop") {
        controls.worker = nodeSelect(current.worker, null, true);
        form.appendChild(field("Worker", controls.worker));
        controls.reviewer = nodeSelect(current.reviewer, function (each) { return each.kind === "agent"; }, true);
        form.appendChild(field("Reviewer (an agent node)", controls.reviewer));
        controls.iterations = el("input", { type: "number", name: "max_iterations", min: 1, max: 10, value: current.max_iterations || 3 });
        form.appendChild(field("Most rounds", controls.iterations));
      }
      if (current.kind === "approval") {
        controls.message = el("textarea", { name: "message", rows: 2, maxLength: 500, value: current.message || "" });
        form.appendChild(field("What to ask", controls.message));
      }
      form.appendChild(el("button", { type: "submit", text: "Apply" }));

      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var freshId = idInput.value.trim();
        if (freshId !== current.id) {
          if (!ID_PATTERN.test(freshId) || node(freshId)) {
            show("error", ["The id must be new: lowercase letters, digits, - or _, starting with a letter."]);
            return;
          }
          renameNode(current.id, freshId);
        }
        current.label = labelInput.value.trim();
        if (controls.agent) current.agent = controls.agent.value ? Number(controls.agent.value) : null;
        if (current.kind === "agent") {
          current.retries = Number(controls.retries.value || 0);
          if (!current.retries) delete current.retries;
          current.fallback_agent = controls.fallback.value ? Number(controls.fallback.value) : null;
          current.input = controls.input.value;
        }
        if (controls.steps) {
          current.steps = controls.steps.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
        }
        if (controls.branches) {
          current.branches = Array.prototype.map.call(
            controls.branches.querySelectorAll("input:checked"),
            function (box) { return box.value; }
          );
        }
        if (controls.mode) {
          current.mode = controls.mode.value;
          if (current.mode === "join") current.agent = null;
        }
        if (controls.routes) {
          current.routes = {};
          controls.routes.querySelectorAll(".route-row").forEach(function (row) {
            var category = row.querySelector(".route-category").value.trim();
            var target = row.querySelector("select").value;
            if (category && target) current.routes[category] = target;
          });
          current["default"] = controls.defaultNode.value;
          current.min_confidence = Number(controls.threshold.value);
        }
        if (controls.worker) {
          current.worker = controls.worker.value;
          current.reviewer = controls.reviewer.value;
          current.max_iterations = Number(controls.iterations.value || 3);
        }
        if (controls.message) current.message = controls.message.value;
        show("ok", []);
        redraw();
        renderPanel();
      });
      panel.appendChild(form);
    }

    // ---------- Canvas interaction ----------

    cy.on("tap", "node", function (event) {
      var id = event.target.id();
      if (connecting) {
        if (!connectFrom) {
          connectFrom = id;
          event.target.addClass("source");
          say("Now click the node that runs after " + id + ".");
          return;
        }
        if (connectFrom !== id) {
          var exists = graph.edges.some(function (edge) {
            return edge.from === connectFrom && edge.to === id;
          });
          if (!exists) graph.edges.push({ from: connectFrom, to: id });
        }
        connectFrom = null;
        say("Connected. Click another source node, or press Connect to stop.");
        redraw();
        return;
      }
      selectedId = id;
      renderPanel();
    });
    cy.on("tap", function (event) {
      if (event.target === cy) {
        selectedId = null;
        connectFrom = null;
        cy.nodes().removeClass("source");
        renderPanel();
      }
    });
    cy.on("dragfree", "node", function () {
      keepPositions();
      jsonBox.value = JSON.stringify(cleanGraph(), null, 2);
    });

    document.getElementById("add-node").addEventListener("click", function () {
      addNode(document.getElementById("node-kind").value);
    });
    var connectButton = document.getElementById("connect-mode");
    connectButton.addEventListener("click", function () {
      connecting = !connecting;
      connectFrom = null;
      cy.nodes().removeClass("source");
      connectButton.setAttribute("aria-pressed", connecting ? "true" : "false");
      connectButton.classList.toggle("outline", !connecting);
      say(connecting ? "Click the node that runs first, then the one after it." : "");
    });
    document.getElementById("set-entry").addEventListener("click", function () {
      if (!selectedId) {
        say("Select the node the workflow starts at first.");
        return;
      }
      graph.entry = selectedId;
      redraw();
      renderPanel();
    });
    document.getElementById("delete-selected").addEventListener("click", function () {
      var edge = cy.edges(":selected").filter("[flow = 1]")[0];
      if (edge) {
        graph.edges = graph.edges.filter(function (each) {
          return !(each.from === edge.source().id() && each.to === edge.target().id());
        });
      } else if (selectedId) {
        removeNode(selectedId);
        selectedId = null;
      } else {
        say("Select a node or an edge to delete.");
        return;
      }
      redraw();
      renderPanel();
    });
    document.getElementById("tidy").addEventListener("click", function () {
      cy.layout(tidyLayout(graph)).run();
      keepPositions();
      jsonBox.value = JSON.stringify(cleanGraph(), null, 2);
    });
    document.getElementById("apply-json").addEventListener("click", function () {
      try {
        var parsed = JSON.parse(jsonBox.value);
        if (!parsed || !Array.isArray(parsed.nodes)) throw new Error("nodes");
        graph = { entry: parsed.entry || "", nodes: parsed.nodes, edges: parsed.edges || [] };
        selectedId = null;
        cy.elements().remove();
        cy.add(elements(graph, agentNames));
        cy.layout(layoutFor(graph)).run();
        renderPanel();
        show("ok", []);
      } catch (error) {
        show("error", ["That is not a graph: a JSON object with nodes, edges and entry."]);
      }
    });

    function request(method, url, body) {
      return fetch(url, {
        method: method,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body),
      }).then(function (response) {
        return response.json().then(
          function (payload) {
            return { status: response.status, body: payload };
          },
          function () {
            return { status: response.status, body: {} };
          }
        );
      });
    }

    function problems(body) {
      var lines = [];
      Object.keys(body || {}).forEach(function (key) {
        var value = body[key];
        (Array.isArray(value) ? value : [String(value)]).forEach(function (line) {
          lines.push(key === "graph" ? line : key + ": " + line);
        });
      });
      return lines;
    }

    document.getElementById("validate").addEventListener("click", function () {
      request("POST", data.api.validate, { graph: cleanGraph() }).then(function (answer) {
        if (answer.status === 200) {
          markErrors([]);
          show("ok", ["The graph is valid: " + graph.nodes.length + " nodes, " + graph.edges.length + " edges."]);
        } else {
          var lines = problems(answer.body);
          markErrors(lines);
          show("error", lines);
        }
      });
    });

    document.getElementById("save").addEventListener("click", function () {
      var body = {
        name: document.getElementById("workflow-name").value,
        description: document.getElementById("workflow-description").value,
        visibility: document.getElementById("workflow-visibility").value,
        graph: cleanGraph(),
      };
      var method = data.api.detail ? "PUT" : "POST";
      request(method, data.api.detail || data.api.create, body).then(function (answer) {
        if (answer.status === 200 || answer.status === 201) {
          window.location.assign(data.page.replace("/0/", "/" + answer.body.id + "/"));
          return;
        }
        var lines = problems(answer.body);
        markErrors(lines);
        show("error", lines.length ? lines : ["Saving failed (" + answer.status + ")."]);
      });
    });

    redraw();
    renderPanel();
  }

  function start() {
    var container = document.getElementById("workflow-graph");
    if (!container || !window.cytoscape) return;
    if (container.getAttribute("data-readonly") === "true") {
      readOnly(container);
    } else {
      builder(container);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
