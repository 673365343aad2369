// TAD console, management pages (script review, resources): write buttons that ask for
// confirmation in a dialog before they POST to the JSON route they name (with the session's
// CSRF token), and SSH checks of hosts (8.2.7). No inline script (CSP); every value is set as
// text, never as HTML. Loaded after console.js, whose helpers it uses.
(function () {
  "use strict";

  var showMessage = window.tadConsole.showMessage;

  // The API's envelope of a fetch, with its HTTP status.
  function envelope(response) {
    return response.json().then(
      function (body) {
        return { status: response.status, body: body };
      },
      function () {
        return { status: response.status, body: null };
      }
    );
  }

  function post(button) {
    var message = document.getElementById("action-message");
    var done = message ? message.getAttribute("data-started") : "OK";
    var failedText = message ? message.getAttribute("data-failed") : "Failed";
    button.disabled = true;
    window.tadConsole
      .postButton(button)
      .then(function (answer) {
        if (answer.status === 200 && answer.body && answer.body.success) {
          showMessage(done, false);
          window.setTimeout(function () {
            window.location.reload();
          }, 600);
        } else {
          var info = answer.body && answer.body.info ? ": " + answer.body.info : " (" + answer.status + ")";
          showMessage(failedText + info, true);
          button.disabled = false;
        }
      })
      .catch(function (error) {
        showMessage(failedText + ": " + error, true);
        button.disabled = false;
      });
  }

  // Asks with the page's dialog; posts only on its OK.
  function confirmThenPost(button) {
    window.tadConsole.confirmThen(button.getAttribute("data-confirm"), function () {
      post(button);
    });
  }

  // 8.2.7: the answer's `data` is true when the login works; a failure says why.
  function validate(button) {
    var result = button.parentNode.querySelector(".ssh-result");
    button.disabled = true;
    if (result) {
      result.textContent = button.getAttribute("data-checking");
      result.className = "ssh-result";
    }
    fetch(button.getAttribute("data-validate"), { credentials: "same-origin", cache: "no-store" })
      .then(envelope)
      .then(function (answer) {
        var ok = answer.status === 200 && answer.body && answer.body.success && answer.body.data === true;
        if (result) {
          // A refused login answers `data: false` (its reason is in the service log); a refused
          // call says why.
          var refused = answer.body && answer.body.success && answer.body.data === false;
          var info = answer.body && answer.body.info ? answer.body.info : String(answer.status);
          result.textContent = ok
            ? button.getAttribute("data-ok")
            : button.getAttribute("data-failed") + (refused ? "" : ": " + info);
          result.className = ok ? "ssh-result ssh-ok" : "ssh-result ssh-failed";
        }
        button.disabled = false;
      })
      .catch(function (error) {
        if (result) {
          result.textContent = button.getAttribute("data-failed") + ": " + error;
          result.className = "ssh-result ssh-failed";
        }
        button.disabled = false;
      });
  }

  document.addEventListener("click", function (event) {
    var confirmed = event.target.closest("button[data-post][data-confirm]");
    if (confirmed) {
      event.preventDefault();
      confirmThenPost(confirmed);
      return;
    }
    var check = event.target.closest("button[data-validate]");
    if (check) {
      event.preventDefault();
      validate(check);
    }
  });
})();
