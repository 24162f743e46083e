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

  // Answers to fill in: data-survey-prefill-KEY="value" on the box, then the
  // post's own address (?utm_campaign=spring). The form keeps only the
  // questions it has, and values they accept; nothing is stored until sent.
  function prefill(box) {
    var pairs = [];
    var named = /^[a-z][a-z0-9_]*$/;
    for (var i = 0; i < box.attributes.length; i++) {
      var name = box.attributes[i].name;
      if (name.indexOf("data-survey-prefill-") !== 0) continue;
      var key = name.slice(20).replace(/-/g, "_");
      if (named.test(key)) pairs.push([key, box.attributes[i].value]);
    }
    new URLSearchParams(location.search).forEach(function (value, key) {
      if (named.test(key) && key !== "embed" && key !== "source" && key !== "lang") {
        pairs.push([key, value]);
      }
    });
    return pairs.slice(0, 50).map(function (pair) {
      return "&" + encodeURIComponent(pair[0]) + "=" + encodeURIComponent(pair[1]);
    }).join("");
  }

  function mount(box) {
    // data-survey="SLUG": the form; data-survey-results="SLUG": its public results.
    var results = box.hasAttribute("data-survey-results");
    var slug = box.getAttribute(results ? "data-survey-results" : "data-survey");
    if (box.hasAttribute("data-survey-mounted") || !/^[a-z0-9-]+$/.test(slug || "")) return;
    box.setAttribute("data-survey-mounted", "");
    var frame = document.createElement("iframe");
    frame.src = origin + "/s/" + slug + (results ? "/results?embed=1" :
      "?embed=1&source=" + encodeURIComponent(pageAddress()) + prefill(box));
    frame.title = box.getAttribute("data-survey-title") || "Reader survey";
    frame.loading = "lazy";
    frame.style.cssText = "display:block;width:100%;max-width:100%;border:0;height:" +
      (parseInt(box.getAttribute("data-survey-height"), 10) || 640) + "px";
    box.textContent = "";
    box.appendChild(frame);
    frames.push(frame);
  }

  function frameOf(source) {
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === source) return frames[i];
    }
    return null;
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data) return;
    var frame = frameOf(event.source);
    if (!frame) return;
    if (data.type === "reader-survey:height") {
      var height = Math.ceil(Number(data.height));
      if (height > 0 && height < 100000) frame.style.height = height + "px";
    } else if (data.type === "reader-survey:show") {
      // After a send the frame's content changed: its top comes into view
      // (once its new height is in place), smoothly unless the reader asked
      // for less motion.
      var still = window.matchMedia && matchMedia("(prefers-reduced-motion: reduce)").matches;
      setTimeout(function () {
        var top = frame.getBoundingClientRect().top;
        if (top < 0 || top > window.innerHeight * 0.5) {
          frame.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });
        }
      }, 50);
    }
  });

  var boxes = document.querySelectorAll("[data-survey], [data-survey-results]");
  for (var i = 0; i < boxes.length; i++) mount(boxes[i]);
})();
