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
})();
