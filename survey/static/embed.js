/* reader-survey embed: turns <div data-survey="SLUG"></div> into an iframe of
   the form whose height follows its content. No dependencies, no cookies. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.postMessage) return;
  var origin = new URL(script.src).origin;
  var frames = [];

  function pageAddress() {
    var link = document.querySelector('link[rel="canonical"]');
    if (link && /^https?:/.test(link.href)) return link.href;
    return location.origin + location.pathname;
  }

  function mount(box) {
    var slug = box.getAttribute("data-survey");
    if (box.hasAttribute("data-survey-mounted") || !/^[a-z0-9-]+$/.test(slug || "")) return;
    box.setAttribute("data-survey-mounted", "");
    var frame = document.createElement("iframe");
    frame.src = origin + "/s/" + slug + "?embed=1&source=" + encodeURIComponent(pageAddress());
    frame.title = box.getAttribute("data-survey-title") || "Reader survey";
    frame.loading = "lazy";
    frame.style.cssText = "display:block;width:100%;max-width:100%;border:0;height:" +
      (parseInt(box.getAttribute("data-survey-height"), 10) || 640) + "px";
    box.textContent = "";
    box.appendChild(frame);
    frames.push(frame);
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data || data.type !== "reader-survey:height") return;
    var height = Math.ceil(Number(data.height));
    if (!(height > 0 && height < 100000)) return;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) frames[i].style.height = height + "px";
    }
  });

  var boxes = document.querySelectorAll("[data-survey]");
  for (var i = 0; i < boxes.length; i++) mount(boxes[i]);
})();
