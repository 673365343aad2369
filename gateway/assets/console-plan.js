// TAD console, an instance's dry run (issue 21): "Plan" asks POST /api/app/jobinstance/{id}/plan
// and shows what deploy would do now: blockers, each step's batches, the hosts each artifact
// would be sent to, the config diffs, the changed parameters (masked by the service) and the
// scripts' review. Deploy's confirmation then sends the plan_id, so what was read is what runs.
// No inline script (CSP); every value is set as text. Loaded after console.js.
(function () {
  "use strict";

  var tad = window.tadConsole;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function diffBlock(diff) {
    var pre = element("pre", "diff");
    diff.split("\n").forEach(function (line) {
      if (line === "") {
        return;
      }
      var kind = "diff-same";
      if (line.indexOf("@@") === 0) {
        kind = "diff-hunk";
      } else if (line.indexOf("+") === 0 && line.indexOf("+++") !== 0) {
        kind = "diff-add";
      } else if (line.indexOf("-") === 0 && line.indexOf("---") !== 0) {
        kind = "diff-del";
      }
      pre.appendChild(element("span", kind, line));
    });
    return pre;
  }

  function show(section, plan) {
    var label = function (name) {
      return section.getAttribute("data-" + name) || name;
    };
    section.textContent = "";
    section.appendChild(element("h2", null, label("title")));
    var compared = element("p", "plan-compared");
    compared.textContent = plan.compared_with
      ? label("compared") + " " + plan.compared_with
      : label("first");
    section.appendChild(compared);
    section.appendChild(element("h3", null, label("blockers")));
    if (plan.blockers.length === 0) {
      section.appendChild(element("p", "plan-no-blockers", label("no-blockers")));
    } else {
      var list = element("ul", "plan-blockers");
      plan.blockers.forEach(function (blocker) {
        var item = element("li", "plan-blocker", blocker.message);
        item.setAttribute("data-kind", blocker.kind);
        list.appendChild(item);
      });
      section.appendChild(list);
    }
    plan.steps.forEach(function (step) {
      var block = element("div", "plan-step");
      block.setAttribute("data-sequence", step.sequence);
      block.appendChild(element("h3", null, label("step") + " " + step.sequence + ": " + step.method_name));
      block.appendChild(
        element("p", "plan-batches", label("batches") + ": " + step.batches.map(function (batch) {
          return "[" + batch.join(", ") + "]";
        }).join(" → "))
      );
      step.artifacts.forEach(function (artifact) {
        var sentTo = artifact.changed_hosts.length ? artifact.changed_hosts.join(", ") : label("unchanged");
        var line = element("p", "plan-artifact", artifact.file_name + " " + (artifact.version || "") + " (" + artifact.md5 + ") · " + label("sent") + ": " + sentTo);
        line.setAttribute("data-changed-hosts", artifact.changed_hosts.join(","));
        block.appendChild(line);
      });
      step.configs.forEach(function (config) {
        var wrap = element("div", "plan-config");
        wrap.setAttribute("data-changed", config.changed ? "true" : "false");
        wrap.appendChild(element("p", null, config.path + (config.changed ? "" : " · " + label("unchanged"))));
        if (config.diff) {
          wrap.appendChild(diffBlock(config.diff));
        }
        block.appendChild(wrap);
      });
      if (step.params.length) {
        block.appendChild(element("h4", null, label("params")));
        var params = element("dl", "values plan-params");
        step.params.forEach(function (change) {
          params.appendChild(element("dt", null, change.key));
          params.appendChild(element("dd", null, (change.before === null ? "—" : change.before) + " → " + (change.after === null ? "—" : change.after)));
        });
        block.appendChild(params);
      }
      if (step.scripts.length) {
        block.appendChild(element("h4", null, label("scripts")));
        step.scripts.forEach(function (script) {
          block.appendChild(
            element("p", "plan-script", script.script_name + " (" + script.file_name + ") " + script.parameter + (script.reviewed ? "" : " · " + label("not-reviewed")))
          );
        });
      }
      section.appendChild(block);
    });
    var go = document.querySelector("#confirm-deploy .confirm-go");
    if (go) {
      go.setAttribute("data-body", JSON.stringify({ use_tad_host: false, plan_id: plan.plan_id }));
      section.appendChild(element("p", "note plan-pinned", label("pinned")));
    }
    section.setAttribute("data-plan-id", plan.plan_id);
    section.hidden = false;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("#show-plan");
    if (!button) {
      return;
    }
    event.preventDefault();
    var section = document.getElementById("dry-run");
    var message = document.getElementById("action-message");
    var failedText = message ? message.getAttribute("data-failed") : "Failed";
    button.disabled = true;
    tad
      .postJson(button.getAttribute("data-plan-url"), JSON.stringify({ use_tad_host: false }))
      .then(function (answer) {
        button.disabled = false;
        if (answer.status === 200 && answer.body && answer.body.success && section) {
          show(section, answer.body.data);
        } else {
          var info = answer.body && answer.body.info ? ": " + answer.body.info : " (" + answer.status + ")";
          tad.showMessage(failedText + info, true);
        }
      })
      .catch(function (error) {
        button.disabled = false;
        tad.showMessage(failedText + ": " + error, true);
      });
  });
})();
