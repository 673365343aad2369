// TAD console, a deployment request's page: approve or reject it with the comment written,
// after the page's confirmation dialog, by posting to the JSON route the button names
// (`data-decide`) with the session's CSRF token. A reject needs a comment. No inline script
// (CSP); every value is set as text. Loaded after console.js, whose helpers it uses.
(function () {
  "use strict";

  var console_ = window.tadConsole;

  function decide(button) {
    var message = document.getElementById("action-message");
    var done = message ? message.getAttribute("data-started") : "OK";
    var failedText = message ? message.getAttribute("data-failed") : "Failed";
    var field = document.getElementById("decision-comment");
    var comment = field ? field.value.trim() : "";
    if (button.getAttribute("data-needs-comment") === "true" && comment === "") {
      console_.showMessage(message ? message.getAttribute("data-comment-required") : "Comment required", true);
      if (field) {
        field.focus();
      }
      return;
    }
    var body = comment === "" ? "{}" : JSON.stringify({ comment: comment });
    console_.confirmThen(button.getAttribute("data-confirm"), function () {
      var buttons = document.querySelectorAll("button[data-decide]");
      buttons.forEach(function (each) {
        each.disabled = true;
      });
      console_
        .postJson(button.getAttribute("data-decide"), body)
        .then(function (answer) {
          if (answer.status === 200 && answer.body && answer.body.success) {
            var said = answer.body.data && answer.body.data.message ? ": " + answer.body.data.message : "";
            console_.showMessage(done + said, false);
            window.setTimeout(function () {
              window.location.reload();
            }, 900);
          } else {
            var info = answer.body && answer.body.info ? ": " + answer.body.info : " (" + answer.status + ")";
            console_.showMessage(failedText + info, true);
            buttons.forEach(function (each) {
              each.disabled = false;
            });
          }
        })
        .catch(function (error) {
          console_.showMessage(failedText + ": " + error, true);
          buttons.forEach(function (each) {
            each.disabled = false;
          });
        });
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-decide]");
    if (button) {
      event.preventDefault();
      decide(button);
    }
  });
})();
