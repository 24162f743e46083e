/* Inside an embedded form: tell the host page how tall the content is, so
   that the iframe never needs a scrollbar of its own. */
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;
  function report() {
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      // The height is not secret; the host page checks that it came from us.
      window.parent.postMessage({ type: "reader-survey:height", height: height }, "*");
    }
  }
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
  window.addEventListener("load", report);
  report();

  // A frame sandboxed without forms (WordPress's embeds of other sites) has
  // an opaque origin, "null", and its Send button would do nothing: the
  // reader gets a link to the form in a tab of its own instead.
  if (window.origin === "null") {
    var note = document.querySelector("[data-sandboxed-note]");
    var send = document.querySelector("[data-survey-form] button[type=submit]");
    if (note && send) {
      note.hidden = false;
      send.hidden = true;
    }
  }

  // After a send (the thanks, the form again with its problems, the closed
  // page) the frame has changed height under the reader: ask the host page
  // to bring its top into view, and give the news the focus.
  if (document.body.hasAttribute("data-after-send")) {
    var news = document.querySelector("[data-error-summary]") || document.querySelector("main h1");
    if (news) {
      if (!news.hasAttribute("tabindex")) news.setAttribute("tabindex", "-1");
      news.focus({ preventScroll: true });
    }
    window.parent.postMessage({ type: "reader-survey:show" }, "*");
  }
})();
