// Live show_if: hide questions whose condition does not hold. The server
// enforces the same rule, and without this script every question is shown.
(function () {
  "use strict";
  // The error summary takes focus (GOV.UK pattern), on staff pages too.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
  var form = document.querySelector("[data-survey-form]");
  if (!form) return;

  function chosen(key) {
    var box = form.querySelector('[data-question="' + key + '"]');
    if (!box || box.hidden) return [];
    var out = [];
    box.querySelectorAll('input[name="' + key + '"]').forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") && input.checked) out.push(input.value);
    });
    return out;
  }

  function update() {
    form.querySelectorAll("[data-show-if]").forEach(function (box) {
      var rule = JSON.parse(box.getAttribute("data-show-if"));
      var show = Object.keys(rule).every(function (ref) {
        return chosen(ref).some(function (value) { return rule[ref].indexOf(value) !== -1; });
      });
      box.hidden = !show;
    });
  }

  form.addEventListener("change", update);
  update();
})();

