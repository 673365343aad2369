// TAD console: the language switch, the dashboard's live refresh and its write buttons. No
// inline script anywhere (the pages' CSP forbids it); every value is set as text, never as HTML.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="tad-csrf"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // The language switch submits itself when a language is chosen.
  function wireLanguageSwitch() {
    var select = document.getElementById("lang-select");
    if (!select) {
      return;
    }
    var button = select.form && select.form.querySelector(".lang-submit");
    if (button) {
      button.hidden = true;
    }
    select.addEventListener("change", function () {
      select.form.submit();
    });
  }

  function showMessage(text, failed) {
    var message = document.getElementById("action-message");
    if (!message) {
      return;
    }
    message.textContent = text;
    message.className = failed ? "message message-failed" : "message message-ok";
  }

  // POST to a JSON route with a JSON body and the session's CSRF token; answers the status and
  // the API's envelope.
  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), "Content-Type": "application/json" },
      body: body || "{}"
    }).then(function (response) {
      return response.json().then(function (envelope) {
        return { status: response.status, body: envelope };
      });
    });
  }

  // A write button (resume, retry): POST to the JSON route it names (with the JSON body it
  // names, if any).

  // POST to the JSON route the button names (`data-post`, with the JSON body of `data-body`).
  function postButton(button) {
    return postJson(button.getAttribute("data-post"), button.getAttribute("data-body"));
  }

  function post(button) {
    var message = document.getElementById("action-message");
    var started = message ? message.getAttribute("data-started") : "OK";
    var failedText = message ? message.getAttribute("data-failed") : "Failed";
    button.disabled = true;
    postButton(button)
      .then(function (answer) {
        if (answer.status === 200 && answer.body && answer.body.success) {
          showMessage(started, false);
        } else {
          var info = answer.body && answer.body.info ? ": " + answer.body.info : "";
          showMessage(failedText + info, true);
        }
        refresh();
      })
      .catch(function (error) {
        showMessage(failedText + ": " + error, true);
        button.disabled = false;
      });
  }

  // Replaces the dashboard with a fresh rendering of the same page (the server renders it; a
  // lost session leads to the login page).
  function refresh() {
    var current = document.getElementById("dashboard");
    if (!current) {
      return;
    }
    fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected && response.url.indexOf("/console/login") !== -1) {
          window.location.assign("/console/login");
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (text) {
        if (!text) {
          return;
        }
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("dashboard");
        var message = document.getElementById("action-message");
        var kept = message ? message.cloneNode(true) : null;
        if (fresh) {
          current.replaceWith(fresh);
          var placeholder = document.getElementById("action-message");
          if (kept && placeholder) {
            placeholder.replaceWith(kept);
          }
        }
      })
      .catch(function () {
        // The next round tries again.
      });
  }

  function wireDashboard() {
    var dashboard = document.getElementById("dashboard");
    if (!dashboard) {
      return;
    }
    document.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-post]");
      if (button) {
        event.preventDefault();
        post(button);
      }
    });
    var seconds = parseInt(dashboard.getAttribute("data-refresh-seconds"), 10);
    if (seconds > 0) {
      window.setInterval(refresh, seconds * 1000);
    }
  }

  // Asks `question` with the page's confirmation dialog (#confirm-dialog); calls `onOk` only on
  // its OK.
  function confirmThen(question, onOk) {
    var dialog = document.getElementById("confirm-dialog");
    var text = document.getElementById("confirm-text");
    if (!dialog || !text || typeof dialog.showModal !== "function") {
      return;
    }
    text.textContent = question;
    dialog.returnValue = "";
    dialog.addEventListener(
      "close",
      function () {
        if (dialog.returnValue === "ok") {
          onOk();
        }
      },
      { once: true }
    );
    dialog.showModal();
  }

  // Shared with the pages' own scripts (loaded after this one).
  window.tadConsole = {
    postButton: postButton,
    postJson: postJson,
    showMessage: showMessage,
    csrfToken: csrfToken,
    confirmThen: confirmThen
  };

  document.addEventListener("DOMContentLoaded", function () {
    wireLanguageSwitch();
    wireDashboard();
  });
})();
