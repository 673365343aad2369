// TAD console, instance and joint-line pages: filters that apply themselves, the confirmation of
// deploy / next step / joint run (each posts to its JSON route with the session's CSRF token, through
// console.js's window.tadConsole.postButton), and the live node statuses of a joint run (polling
// the run tree, GET /api/executions/{id}).
// No inline script (the pages' CSP forbids it); every value is set as text, never as HTML.
(function () {
  "use strict";

  var POLL_MS = 1000;

  var showMessage = window.tadConsole.showMessage;

  // As the server's status_class: only success is green, unknown words are "other".
  function statusClass(status) {
    if (["success", "failed", "running", "stopped", "interrupted"].indexOf(status) !== -1) {
      return status;
    }
    return ["pending", "waiting", "queued"].indexOf(status) !== -1 ? "pending" : "other";
  }

  function statusText(status) {
    var line = document.getElementById("joint-line");
    var cls = statusClass(status);
    var text = line && cls !== "other" ? line.getAttribute("data-text-" + cls) : null;
    return text || status;
  }

  function setBadge(badge, status) {
    if (badge) {
      badge.className = "status status-" + statusClass(status);
      badge.setAttribute("data-status", status);
      badge.textContent = statusText(status);
    }
  }

  // Filters: a new product line (whose applications differ) applies at once.
  function wireFilters() {
    document.querySelectorAll("select.auto-submit").forEach(function (select) {
      select.addEventListener("change", function () {
        var application = select.form.querySelector("#filter-application");
        if (application) {
          application.value = "";
        }
        select.form.submit();
      });
    });
  }

  function hidePanels() {
    document.querySelectorAll("section.confirm").forEach(function (panel) {
      panel.hidden = true;
    });
  }

  // POST the confirmed action; answers the execution id it started (or shows the failure).
  function start(button) {
    var message = document.getElementById("action-message");
    var failedText = message ? message.getAttribute("data-failed") : "Failed";
    button.disabled = true;
    window.tadConsole
      .postButton(button)
      .then(function (answer) {
        var data = answer.body && answer.body.data;
        if (answer.status === 200 && answer.body.success && data && data.execution_id) {
          started(button, data.execution_id);
        } else {
          var info = answer.body && answer.body.info ? ": " + answer.body.info : "";
          showMessage(failedText + info, true);
          button.disabled = false;
        }
      })
      .catch(function (error) {
        showMessage(failedText + ": " + error, true);
        button.disabled = false;
      });
  }

  function started(button, executionId) {
    if (button.getAttribute("data-then") === "joint") {
      var message = document.getElementById("action-message");
      showMessage(message ? message.getAttribute("data-started") : "Started", false);
      hidePanels();
      button.disabled = false;
      var url = new URL(window.location.href);
      url.searchParams.set("run", executionId);
      window.history.replaceState(null, "", url.toString());
      followJointRun(executionId);
    } else {
      window.location.assign("/console/runs/" + encodeURIComponent(executionId));
    }
  }

  function wireConfirmations() {
    document.addEventListener("click", function (event) {
      var opener = event.target.closest("button[data-confirm]");
      if (opener) {
        hidePanels();
        var panel = document.getElementById(opener.getAttribute("data-confirm"));
        if (panel) {
          panel.hidden = false;
          panel.scrollIntoView({ block: "nearest" });
        }
        return;
      }
      if (event.target.closest("button.confirm-cancel")) {
        hidePanels();
        return;
      }
      var go = event.target.closest("button.confirm-go");
      if (go) {
        event.preventDefault();
        start(go);
      }
    });
  }

  // A joint run's tree: the overall status and each node's, shown in the graph and the table.
  function showJointRun(run) {
    var link = document.getElementById("joint-run-link");
    if (link) {
      link.textContent = run.id;
      link.setAttribute("href", "/console/runs/" + encodeURIComponent(run.id));
    }
    var box = document.getElementById("joint-run");
    if (box) {
      box.hidden = false;
    }
    setBadge(document.getElementById("joint-run-status"), run.status);
    (run.nodes || []).forEach(function (node) {
      var sequence = String(node.sequence);
      var group = document.querySelector('#joint-graph g.node[data-sequence="' + sequence + '"]');
      if (group) {
        group.setAttribute("class", "node node-" + statusClass(node.status));
        group.setAttribute("data-status", node.status);
        var text = group.querySelector(".node-status");
        if (text) {
          text.textContent = statusText(node.status);
        }
      }
      var row = document.querySelector('#joint-nodes tr[data-sequence="' + sequence + '"]');
      if (row) {
        setBadge(row.querySelector(".status"), node.status);
        var cell = row.querySelector(".node-run");
        if (cell && node.execution_id) {
          var runLink = document.createElement("a");
          runLink.href = "/console/runs/" + encodeURIComponent(node.execution_id);
          runLink.textContent = node.execution_id;
          cell.replaceChildren(runLink);
        }
      }
    });
  }

  function followJointRun(executionId) {
    var line = document.getElementById("joint-line");
    if (line) {
      line.setAttribute("data-run", executionId);
    }
    function poll() {
      if (!line || line.getAttribute("data-run") !== executionId) {
        return;
      }
      fetch("/api/executions/" + encodeURIComponent(executionId), {
        credentials: "same-origin",
        cache: "no-store"
      })
        .then(function (response) {
          return response.json();
        })
        .then(function (body) {
          if (!body || !body.success || !body.data) {
            showMessage(body && body.info ? body.info : executionId, true);
            return;
          }
          showJointRun(body.data);
          if (["pending", "running"].indexOf(body.data.status) !== -1) {
            window.setTimeout(poll, POLL_MS);
          } else if (body.data.status !== "success") {
            // Running the joint line again continues this run (2.1).
            var button = document.getElementById("run-joint-line");
            if (button) {
              button.textContent = button.getAttribute("data-continue-text");
            }
          }
        })
        .catch(function () {
          window.setTimeout(poll, POLL_MS);
        });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireFilters();
    wireConfirmations();
    var line = document.getElementById("joint-line");
    var run = line ? line.getAttribute("data-run") : "";
    if (run) {
      followJointRun(run);
    }
  });
})();
