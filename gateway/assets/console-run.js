// TAD console, run page: follows the run's events over SSE (EventSource, resumed from the last
// event id after a drop), updates the run tree, and shows one host's log in a virtualised view
// (only the visible rows are in the DOM) fed by log chunks fetched by byte offset and by the
// events' log chunks, de-duplicated by byte offset. No inline script; every value set as text.
(function () {
  "use strict";

  // ---- Pure log logic (no DOM): byte lengths, the line index, search, the error rule. ----

  // The UTF-8 bytes of the character whose first UTF-16 unit is `code` (a surrogate pair's
  // high unit stands for the pair: 4 bytes).
  function charBytes(code) {
    if (code < 0x80) {
      return 1;
    }
    if (code < 0x800) {
      return 2;
    }
    return code >= 0xd800 && code <= 0xdbff ? 4 : 3;
  }

  // Walks `text` until `limit` bytes (UTF-8) are passed; answers [bytes, units] walked.
  function utf8Walk(text, limit) {
    var bytes = 0;
    var i = 0;
    while (i < text.length && bytes < limit) {
      var width = charBytes(text.charCodeAt(i));
      bytes += width;
      i += width === 4 ? 2 : 1;
    }
    return [bytes, i];
  }

  // UTF-8 length of a string, without encoding it.
  function utf8Length(text) {
    return utf8Walk(text, Infinity)[0];
  }

  // The rest of `text` after its first `skip` bytes (UTF-8).
  function utf8Suffix(text, skip) {
    return text.slice(utf8Walk(text, skip)[1]);
  }

  // A host's log as lines: the complete lines, the unfinished last one, and the byte offset up
  // to which text was added. Text is added by byte offset: what is already held is skipped
  // (never twice), text after a hole is refused (the caller fetches the hole first).
  function LogModel() {
    this.lines = [];
    this.partial = "";
    this.loadedTo = 0;
  }

  // Adds `text` that starts at byte `offset`: "added", "duplicate" or "gap".
  LogModel.prototype.add = function (offset, text) {
    var end = offset + utf8Length(text);
    if (end <= this.loadedTo) {
      return "duplicate";
    }
    if (offset > this.loadedTo) {
      return "gap";
    }
    var fresh = offset < this.loadedTo ? utf8Suffix(text, this.loadedTo - offset) : text;
    var parts = (this.partial + fresh).split("\n");
    this.partial = parts.pop();
    for (var i = 0; i < parts.length; i++) {
      var line = parts[i];
      this.lines.push(line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line);
    }
    this.loadedTo = end;
    return "added";
  };

  LogModel.prototype.count = function () {
    return this.lines.length + (this.partial ? 1 : 0);
  };

  LogModel.prototype.line = function (index) {
    return index < this.lines.length ? this.lines[index] : this.partial;
  };

  // The next line (from `from`, in `step` +1 or -1, wrapping) containing `query`, ignoring
  // case; -1 when none does.
  function findLine(model, query, from, step) {
    var count = model.count();
    if (!query || count === 0) {
      return -1;
    }
    var wanted = query.toLowerCase();
    var index = ((from % count) + count) % count;
    for (var seen = 0; seen < count; seen++) {
      if (model.line(index).toLowerCase().indexOf(wanted) !== -1) {
        return index;
      }
      index = (index + step + count) % count;
    }
    return -1;
  }

  // The error rule (documented on the page): a line containing the word error, failed or fatal,
  // or an exit code/status other than 0.
  var ERROR_WORD = /\b(error|failed|fatal)\b/i;
  var EXIT_CODE = /\bexit(?:ed)?(?: with)?(?: code| status)[ :=]*(-?\d+)/i;
  function isErrorLine(line) {
    if (ERROR_WORD.test(line)) {
      return true;
    }
    var exit = EXIT_CODE.exec(line);
    return exit !== null && Number(exit[1]) !== 0;
  }

  function firstErrorLine(model) {
    var count = model.count();
    for (var i = 0; i < count; i++) {
      if (isErrorLine(model.line(i))) {
        return i;
      }
    }
    return -1;
  }

  // ---- The virtualised view: a spacer as tall as the lines, and a pool of row elements. ----

  // Browsers cap an element's height; beyond this the scroll position is scaled.
  var MAX_SPACER_PX = 8000000;

  function LogView(viewport, onUserScroll) {
    this.viewport = viewport;
    this.spacer = viewport.querySelector(".log-spacer");
    this.rowsBox = viewport.querySelector(".log-rows");
    this.rowHeight = 18;
    this.pool = [];
    this.model = null;
    this.highlight = -1;
    this.errorLine = -1;
    this.scheduled = false;
    this.programmatic = false;
    var view = this;
    viewport.addEventListener("scroll", function () {
      if (view.programmatic) {
        view.programmatic = false;
      } else {
        onUserScroll(view.atEnd());
      }
      view.schedule();
    });
    window.addEventListener("resize", function () {
      view.schedule();
    });
  }

  LogView.prototype.geometry = function () {
    var count = this.model ? this.model.count() : 0;
    var total = count * this.rowHeight;
    var height = Math.min(total, MAX_SPACER_PX);
    var viewHeight = this.viewport.clientHeight;
    return {
      count: count,
      total: total,
      height: height,
      viewHeight: viewHeight,
      maxScroll: Math.max(0, height - viewHeight),
      virtualMax: Math.max(0, total - viewHeight)
    };
  };

  LogView.prototype.schedule = function () {
    if (this.scheduled) {
      return;
    }
    this.scheduled = true;
    var view = this;
    window.requestAnimationFrame(function () {
      view.scheduled = false;
      view.render();
    });
  };

  LogView.prototype.render = function () {
    var g = this.geometry();
    this.spacer.style.height = g.height + "px";
    var top = Math.min(this.viewport.scrollTop, g.maxScroll);
    var virtualTop = g.maxScroll > 0 ? (top * g.virtualMax) / g.maxScroll : 0;
    var first = Math.floor(virtualTop / this.rowHeight);
    var shift = virtualTop - first * this.rowHeight;
    var shown = Math.ceil(g.viewHeight / this.rowHeight) + 1;
    this.rowsBox.style.transform = "translateY(" + Math.max(0, top - shift) + "px)";
    while (this.pool.length < shown) {
      var row = document.createElement("div");
      row.className = "log-row";
      var number = document.createElement("span");
      number.className = "log-n";
      var text = document.createElement("span");
      text.className = "log-t";
      row.appendChild(number);
      row.appendChild(text);
      this.rowsBox.appendChild(row);
      this.pool.push(row);
    }
    for (var k = 0; k < this.pool.length; k++) {
      var element = this.pool[k];
      var index = first + k;
      if (k >= shown || index >= g.count) {
        element.hidden = true;
        continue;
      }
      element.hidden = false;
      element.setAttribute("data-line", String(index + 1));
      element.firstChild.textContent = String(index + 1);
      element.lastChild.textContent = this.model.line(index);
      element.classList.toggle("match", index === this.highlight);
      element.classList.toggle("error-line", index === this.errorLine);
    }
  };

  LogView.prototype.atEnd = function () {
    var v = this.viewport;
    return v.scrollTop + v.clientHeight >= v.scrollHeight - 2;
  };

  LogView.prototype.scrollTo = function (position) {
    if (this.viewport.scrollTop !== position) {
      this.programmatic = true;
      this.viewport.scrollTop = position;
    }
    this.schedule();
  };

  LogView.prototype.scrollToEnd = function () {
    var g = this.geometry();
    this.spacer.style.height = g.height + "px";
    this.scrollTo(g.maxScroll);
  };

  // Centres line `index` in the view.
  LogView.prototype.scrollToLine = function (index) {
    var g = this.geometry();
    this.spacer.style.height = g.height + "px";
    var virtualTop = Math.max(0, index * this.rowHeight - g.viewHeight / 2);
    var top = g.virtualMax > 0 ? (Math.min(virtualTop, g.virtualMax) * g.maxScroll) / g.virtualMax : 0;
    this.scrollTo(Math.round(top));
  };

  // ---- The page. ----

  var page = document.getElementById("run-page");
  if (!page) {
    return;
  }
  var runId = page.getAttribute("data-run");
  var panel = document.getElementById("log-panel");
  var logBase = panel.getAttribute("data-log-base");
  var followBox = document.getElementById("log-follow");
  var searchBox = document.getElementById("log-search");
  var view = new LogView(document.getElementById("log-view"), function (atEnd) {
    followBox.checked = atEnd;
  });
  var logs = {};
  var selected = null;
  var lastEventId = 0;
  var source = null;
  var live = page.getAttribute("data-live") === "true";
  var reconnectTimer = null;

  function text(name) {
    return page.getAttribute("data-" + name) || "";
  }

  function setLiveState(name) {
    var state = document.getElementById("live-state");
    if (state) {
      state.textContent = name ? text(name) : "";
      state.setAttribute("data-state", name || "");
    }
  }

  // The log of one host task: its model and the fetcher that fills holes by byte offset.
  function HostLog(task) {
    this.task = task;
    this.model = new LogModel();
    this.fetching = false;
    this.again = false;
    this.done = false;
  }

  // Fetches from the end of what is held until the log route has nothing more (one fetch loop
  // at a time; a request made meanwhile runs another round after it).
  HostLog.prototype.catchUp = function () {
    if (this.fetching) {
      this.again = true;
      return;
    }
    this.fetching = true;
    this.again = false;
    var log = this;
    var url = logBase + "?host_task=" + encodeURIComponent(log.task) + "&offset=" + log.model.loadedTo;
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.json();
      })
      .then(function (envelope) {
        log.fetching = false;
        if (!envelope || !envelope.success) {
          return;
        }
        var chunk = envelope.data;
        var result = log.model.add(chunk.offset, chunk.text);
        log.done = chunk.done;
        changed(log);
        if (result === "added" || log.again) {
          log.catchUp();
        } else {
          loaded(log);
        }
      })
      .catch(function () {
        log.fetching = false;
        window.setTimeout(function () {
          log.catchUp();
        }, 1000);
      });
  };

  function changed(log) {
    if (log !== selected) {
      return;
    }
    document.getElementById("log-count").textContent = log.model.count() + " " + text("lines");
    if (followBox.checked) {
      view.scrollToEnd();
    } else {
      view.schedule();
    }
  }

  // A host's log is held up to what the route has: the moment is kept for the page's readers.
  function loaded(log) {
    if (log === selected) {
      panel.setAttribute("data-loaded-ms", String(Math.round(window.performance.now())));
      panel.setAttribute("data-loaded-bytes", String(log.model.loadedTo));
    }
  }

  function selectHost(task) {
    if (!task) {
      return;
    }
    if (!logs[task]) {
      logs[task] = new HostLog(task);
    }
    selected = logs[task];
    view.model = selected.model;
    view.highlight = -1;
    view.errorLine = -1;
    document.getElementById("log-empty").hidden = true;
    document.getElementById("log-view").hidden = false;
    var row = document.querySelector('.host[data-host-task="' + CSS.escape(task) + '"]');
    document.getElementById("log-host").textContent = row ? row.getAttribute("data-host-ip") : "";
    var download = document.getElementById("log-download");
    download.href = logBase + "/raw?host_task=" + encodeURIComponent(task);
    download.hidden = false;
    panel.setAttribute("data-host-task", task);
    panel.removeAttribute("data-loaded-ms");
    markSelected();
    followBox.checked = true;
    changed(selected);
    selected.catchUp();
  }

  function markSelected() {
    var hosts = document.querySelectorAll(".host");
    for (var i = 0; i < hosts.length; i++) {
      var current = selected && hosts[i].getAttribute("data-host-task") === selected.task;
      hosts[i].classList.toggle("selected", Boolean(current));
    }
  }

  // The host shown first: a running one, else a failed one, else the last one.
  function defaultHost() {
    var hosts = document.querySelectorAll(".host");
    if (hosts.length === 0) {
      return null;
    }
    var order = ["running", "failed"];
    for (var o = 0; o < order.length; o++) {
      for (var i = 0; i < hosts.length; i++) {
        var badge = hosts[i].querySelector(".host-status .status");
        if (badge && badge.getAttribute("data-status") === order[o]) {
          return hosts[i].getAttribute("data-host-task");
        }
      }
    }
    return hosts[hosts.length - 1].getAttribute("data-host-task");
  }

  // ---- Live events. ----

  function setBadge(container, word) {
    var badge = container && container.querySelector(".status");
    if (!badge || badge.getAttribute("data-status") === word) {
      return;
    }
    badge.setAttribute("data-status", word);
    badge.className = "status status-" + statusClass(word);
    badge.textContent = word;
  }

  function statusClass(word) {
    var known = ["success", "failed", "running", "stopped", "interrupted"];
    if (known.indexOf(word) !== -1) {
      return word;
    }
    return ["pending", "waiting", "queued"].indexOf(word) !== -1 ? "pending" : "other";
  }

  var refreshTimer = null;
  // Re-renders the run's head (status, controls and their plans) and tree from the server.
  function scheduleRefresh() {
    if (refreshTimer) {
      return;
    }
    refreshTimer = window.setTimeout(function () {
      refreshTimer = null;
      if (document.querySelector("dialog[open]")) {
        scheduleRefresh();
        return;
      }
      fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (!html) {
            return;
          }
          var fresh = new DOMParser().parseFromString(html, "text/html");
          ["run-tree", "run-facts", "run-controls", "run-status", "run-message"].forEach(function (id) {
            var now = document.getElementById(id);
            var next = fresh.getElementById(id);
            if (now && next) {
              now.replaceWith(next);
            }
          });
          var dialogs = fresh.querySelectorAll("dialog.confirm");
          Array.prototype.forEach.call(document.querySelectorAll("dialog.confirm"), function (old) {
            old.remove();
          });
          var head = document.getElementById("run-head");
          Array.prototype.forEach.call(dialogs, function (dialog) {
            head.appendChild(document.importNode(dialog, true));
          });
          markSelected();
          if (!selected) {
            selectHost(defaultHost());
          }
        })
        .catch(function () {
          scheduleRefresh();
        });
    }, 300);
  }

  function onEvent(event) {
    var seq = Number(event.lastEventId);
    if (seq && seq <= lastEventId) {
      return;
    }
    if (seq) {
      lastEventId = seq;
      page.setAttribute("data-last-event-id", String(seq));
    }
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (event.type === "log") {
      var log = logs[data.host_task];
      if (log && log.model.add(data.offset, data.text) === "gap") {
        log.catchUp();
      } else if (log) {
        changed(log);
      }
    } else if (event.type === "host") {
      var host = document.querySelector('.host[data-host-task="' + CSS.escape(data.host_task) + '"]');
      if (host) {
        setBadge(host.querySelector(".host-status"), data.status);
      }
      scheduleRefresh();
    } else if (event.type === "step") {
      setBadge(document.querySelector('.step[data-step="' + Number(data.sequence) + '"] .step-status'), data.status);
      scheduleRefresh();
    } else if (event.type === "run") {
      // A replay holds the ends of earlier attempts (before a retry): the run has ended only
      // when the server closes the stream after a terminal status.
      setBadge(document.getElementById("run-status"), data.status);
      live = data.status === "running" || data.status === "pending";
      scheduleRefresh();
    }
  }

  function ended() {
    live = false;
    if (source) {
      source.close();
      source = null;
    }
    setLiveState("ended");
    Object.keys(logs).forEach(function (task) {
      logs[task].catchUp();
    });
  }

  function connect() {
    if (reconnectTimer) {
      window.clearTimeout(reconnectTimer);
      reconnectTimer = null;
    }
    if (source) {
      source.close();
    }
    var url = "/api/executions/" + encodeURIComponent(runId) + "/events";
    if (lastEventId) {
      url += "?last_event_id=" + lastEventId;
    }
    var opened = new EventSource(url);
    source = opened;
    ["run", "step", "host", "log"].forEach(function (kind) {
      opened.addEventListener(kind, onEvent);
    });
    opened.onopen = function () {
      setLiveState("connected");
    };
    opened.onerror = function () {
      if (opened !== source) {
        return;
      }
      if (!live) {
        ended();
        return;
      }
      setLiveState("reconnecting");
      // Reopened by hand from the last event id (the browser's own retry gives up on errors).
      opened.close();
      source = null;
      reconnectTimer = window.setTimeout(connect, 1000);
    };
  }

  // A network drop as the page sees one: the stream closes and reopens from the last event id.
  function dropConnection() {
    if (source) {
      source.close();
      source = null;
      setLiveState("reconnecting");
      reconnectTimer = window.setTimeout(connect, 500);
    }
  }

  // ---- Controls. ----

  function post(dialog) {
    var message = document.getElementById("action-message");
    var button = dialog.querySelector(".confirm-button");
    button.disabled = true;
    window.tadConsole.postJson(dialog.getAttribute("data-post"), dialog.getAttribute("data-body"))
      .then(function (answer) {
        dialog.close();
        var ok = answer.status === 200 && answer.body && answer.body.success;
        if (!ok) {
          var info = answer.body && answer.body.info ? ": " + answer.body.info : "";
          window.tadConsole.showMessage(message.getAttribute("data-failed") + info, true);
          button.disabled = false;
          return;
        }
        window.tadConsole.showMessage(message.getAttribute("data-started"), false);
        var started = answer.body.data && answer.body.data.execution_id;
        if (dialog.getAttribute("data-opens-run") === "true" && started && started !== runId) {
          window.location.assign("/console/runs/" + encodeURIComponent(started));
          return;
        }
        if (!live && !source) {
          live = true;
          connect();
        }
        scheduleRefresh();
      })
      .catch(function (error) {
        window.tadConsole.showMessage(message.getAttribute("data-failed") + ": " + error, true);
        button.disabled = false;
      });
  }

  var match = -1;
  function search(step) {
    if (!selected) {
      return;
    }
    var from = match === -1 ? (step > 0 ? 0 : selected.model.count() - 1) : match + step;
    match = findLine(selected.model, searchBox.value, from, step);
    var status = document.getElementById("log-match");
    if (match === -1) {
      status.textContent = text("no-match");
      view.highlight = -1;
      view.schedule();
      return;
    }
    status.textContent = String(match + 1);
    followBox.checked = false;
    view.highlight = match;
    view.scrollToLine(match);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var viewLog = target.closest(".view-log");
    if (viewLog) {
      selectHost(viewLog.getAttribute("data-host-task"));
      return;
    }
    var opener = target.closest("[data-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog"));
      if (dialog) {
        dialog.showModal();
      }
      return;
    }
    var within = target.closest("dialog.confirm");
    if (within && target.closest(".cancel")) {
      within.close();
    } else if (within && target.closest(".confirm-button")) {
      post(within);
    }
  });
  followBox.addEventListener("change", function () {
    if (followBox.checked) {
      view.scrollToEnd();
    }
  });
  searchBox.addEventListener("input", function () {
    match = -1;
  });
  searchBox.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      search(event.shiftKey ? -1 : 1);
    }
  });
  document.getElementById("log-next").addEventListener("click", function () {
    search(1);
  });
  document.getElementById("log-prev").addEventListener("click", function () {
    search(-1);
  });
  document.getElementById("log-first-error").addEventListener("click", function () {
    if (!selected) {
      return;
    }
    var line = firstErrorLine(selected.model);
    var status = document.getElementById("log-match");
    if (line === -1) {
      status.textContent = text("no-error");
      return;
    }
    status.textContent = String(line + 1);
    followBox.checked = false;
    view.errorLine = line;
    view.scrollToLine(line);
  });

  // What tests and other scripts of the page may read: the held lines of a host, the last event
  // id, and a simulated network drop; and the pure functions.
  window.TadRunPage = {
    lines: function (task) {
      var log = logs[task || (selected && selected.task)];
      if (!log) {
        return null;
      }
      var all = log.model.lines.slice();
      if (log.model.partial) {
        all.push(log.model.partial);
      }
      return all;
    },
    lineCount: function () {
      return selected ? selected.model.count() : 0;
    },
    lastEventId: function () {
      return lastEventId;
    },
    dropConnection: dropConnection,
    pure: {
      utf8Length: utf8Length,
      utf8Suffix: utf8Suffix,
      LogModel: LogModel,
      findLine: findLine,
      isErrorLine: isErrorLine,
      firstErrorLine: firstErrorLine
    }
  };

  selectHost(defaultHost());
  if (live) {
    connect();
  } else {
    setLiveState("ended");
  }
})();
