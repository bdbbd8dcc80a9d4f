// "复制链接": the page already shows the link in a read-only box; with
// JavaScript we also reveal a button that copies it. No inline code, so the
// strict Content-Security-Policy (script-src 'self') holds.
(function () {
  "use strict";

  function fallbackCopy(input) {
    // Older browsers and non-HTTPS pages have no navigator.clipboard.
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch (err) {
      return false;
    }
  }

  function setup(button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!input) {
      return;
    }
    var status = button.closest(".share") && button.closest(".share").querySelector(".copy-status");
    function report(ok) {
      if (status) {
        status.textContent = button.getAttribute(ok ? "data-copied" : "data-failed") || "";
      }
      if (!ok) {
        input.focus();
        input.select();
      }
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(
          function () { report(true); },
          function () { report(fallbackCopy(input)); }
        );
      } else {
        report(fallbackCopy(input));
      }
    });
  }

  document.querySelectorAll("button.copy-link[data-copy-target]").forEach(setup);
})();
