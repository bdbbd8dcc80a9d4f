// The search box takes a name, a number or a credit code. A pasted message,
// longer than any name, goes to the message check instead: by POST, so the
// text never lands in a URL (where a long one would also be too long for the
// server), with a line under the box saying why. Without JavaScript the
// results page offers the same, as a form.
(function () {
  "use strict";

  function setup(form) {
    if (form.getAttribute("data-paste-ready")) {
      return;
    }
    form.setAttribute("data-paste-ready", "1");
    var input = form.querySelector("input[name=q]");
    var note = form.querySelector(".paste-note");
    var limit = parseInt(form.getAttribute("data-message-chars"), 10);
    var checkUrl = form.getAttribute("data-check-url");
    if (!input || !note || !checkUrl || !limit) {
      return;
    }
    var message = null;

    input.addEventListener("paste", function (event) {
      var data = event.clipboardData || window.clipboardData;
      var text = data ? data.getData("text") : "";
      if (!text || text.trim().length <= limit) {
        return;
      }
      // Keep the whole text (the box would cut it at its maxlength).
      event.preventDefault();
      message = text;
      input.value = text.replace(/\s+/g, " ").trim().slice(0, input.maxLength > 0 ? input.maxLength : undefined);
      note.hidden = false;
    });

    // Typing again means a search after all.
    input.addEventListener("input", function () {
      message = null;
      note.hidden = true;
    });

    form.addEventListener("submit", function (event) {
      if (message === null) {
        return;
      }
      event.preventDefault();
      var post = document.createElement("form");
      post.method = "post";
      post.action = checkUrl;
      post.hidden = true;
      var text = document.createElement("textarea");
      text.name = "text";
      text.value = message;
      post.appendChild(text);
      document.body.appendChild(post);
      post.submit();
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.search-form"), setup);
})();
