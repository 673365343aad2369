// TAD console, API tokens page (issue 20): creates a token through POST /api/auth/tokens and
// shows its secret once (only in this page's memory: a reload shows it no more), revokes one
// through DELETE /api/auth/tokens/{id} after a confirmation. Both send the session's CSRF token.
// No inline script (CSP); every value is set as text, never as HTML. Loaded after console.js.
(function () {
  "use strict";

  var showMessage = window.tadConsole.showMessage;

  function failed(answer) {
    var message = document.getElementById("action-message");
    var text = message ? message.getAttribute("data-failed") : "Failed";
    var info = answer && answer.body && answer.body.info ? ": " + answer.body.info : answer ? " (" + answer.status + ")" : "";
    showMessage(text + info, true);
  }

  // Replaces the list with a fresh rendering of this page (the secret is never in it).
  function refreshList() {
    return fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (text) {
        var current = document.getElementById("token-list");
        if (!text || !current) {
          return;
        }
        var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("token-list");
        if (fresh) {
          current.replaceWith(fresh);
        }
      });
  }

  function create(form) {
    var button = document.getElementById("create-token");
    var roles = [];
    form.querySelectorAll('input[name="roles"]:checked').forEach(function (box) {
      roles.push(box.value);
    });
    var body = {
      name: form.querySelector('input[name="name"]').value,
      expires_in_days: parseInt(form.querySelector('input[name="expires_in_days"]').value, 10),
      roles: roles
    };
    if (button) {
      button.disabled = true;
    }
    window.tadConsole
      .postJson(form.getAttribute("data-url"), JSON.stringify(body))
      .then(function (answer) {
        if (answer.status === 200 && answer.body && answer.body.success) {
          document.getElementById("new-token-value").textContent = answer.body.data.token;
          document.getElementById("new-token").hidden = false;
          showMessage("", false);
          form.reset();
          return refreshList();
        }
        failed(answer);
        return null;
      })
      .catch(function (error) {
        showMessage(String(error), true);
      })
      .then(function () {
        if (button) {
          button.disabled = false;
        }
      });
  }

  function revoke(button) {
    var message = document.getElementById("action-message");
    button.disabled = true;
    fetch(button.getAttribute("data-delete"), {
      method: "DELETE",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": window.tadConsole.csrfToken() }
    })
      .then(function (response) {
        return response.json().then(function (body) {
          return { status: response.status, body: body };
        });
      })
      .then(function (answer) {
        if (answer.status === 200 && answer.body && answer.body.success) {
          showMessage(message ? message.getAttribute("data-revoked") : "OK", false);
          return refreshList();
        }
        failed(answer);
        button.disabled = false;
        return null;
      })
      .catch(function (error) {
        showMessage(String(error), true);
        button.disabled = false;
      });
  }

  // Asks with the page's dialog; revokes only on its OK.
  function confirmThenRevoke(button) {
    window.tadConsole.confirmThen(button.getAttribute("data-confirm"), function () {
      revoke(button);
    });
  }

  function copy() {
    var value = document.getElementById("new-token-value").textContent;
    var message = document.getElementById("action-message");
    if (navigator.clipboard && value) {
      navigator.clipboard.writeText(value).then(function () {
        showMessage(message ? message.getAttribute("data-copied") : "OK", false);
      }, function () {
        // Copying by hand still works: the token is selectable text.
      });
    }
  }

  document.addEventListener("submit", function (event) {
    if (event.target.id === "token-form") {
      event.preventDefault();
      create(event.target);
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.revoke-token[data-delete]");
    if (button) {
      event.preventDefault();
      confirmThenRevoke(button);
      return;
    }
    if (event.target.closest("#copy-token")) {
      event.preventDefault();
      copy();
    }
  });
})();
