// Rankings: the selects work without this; with it, each option also gets
// "Move up" and "Move down" buttons (keyboard and pointer alike), the list
// shows the current order, and a screen reader hears each move.
(function () {
  "use strict";
  document.querySelectorAll("[data-ranking]").forEach(function (box) {
    var list = box.querySelector("ol");
    var status = box.querySelector("[data-ranking-status]");
    var items = Array.prototype.slice.call(box.querySelectorAll("[data-ranking-item]"));
    var ranks = items[0].querySelector("select").options.length - 1;

    function rankOf(item) { return parseInt(item.querySelector("select").value, 10) || 0; }
    function label(item) { return item.querySelector("label").textContent; }
    function ordered() {
      var ranked = items.filter(rankOf).sort(function (a, b) { return rankOf(a) - rankOf(b); });
      return ranked.concat(items.filter(function (item) { return !rankOf(item); }));
    }
    function apply(order, moved, rankMoved) {
      var count = 0;
      order.forEach(function (item) {
        var select = item.querySelector("select");
        if (item === moved ? rankMoved : rankOf(item)) {
          count += 1;
          select.value = count <= ranks ? String(count) : "";
        }
        list.appendChild(item);
      });
      var rank = rankOf(moved);
      var text = rank ? box.dataset.moved.replace("%(rank)s", rank) : box.dataset.unranked;
      status.textContent = text.replace("%(option)s", label(moved));
    }
    function move(item, step) {
      var order = ordered();
      var at = order.indexOf(item);
      var ranked = order.filter(rankOf).length;
      if (!rankOf(item)) {
        if (step > 0 || ranked >= ranks) return;
        order.splice(at, 1);
        order.splice(ranked, 0, item);
        apply(order, item, true);
        return;
      }
      if (step > 0 && at === ranked - 1) {
        item.querySelector("select").value = "";
        order.splice(at, 1);
        order.splice(ranked - 1, 0, item);
        apply(order.filter(rankOf).concat(order.filter(function (i) { return !rankOf(i); })), item, false);
        return;
      }
      var to = at + step;
      if (to < 0) return;
      order.splice(at, 1);
      order.splice(to, 0, item);
      apply(order, item, true);
    }
    items.forEach(function (item) {
      [["up", -1], ["down", 1]].forEach(function (pair) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button button--secondary ranking__move";
        button.textContent = pair[0] === "up" ? "↑" : "↓";
        button.setAttribute("aria-label", box.dataset[pair[0]] + ": " + label(item));
        button.addEventListener("click", function () { move(item, pair[1]); button.focus(); });
        item.appendChild(button);
      });
    });
    box.addEventListener("change", function (event) {
      if (event.target.tagName === "SELECT") {
        ordered().forEach(function (item) { list.appendChild(item); });
      }
    });
    ordered().forEach(function (item) { list.appendChild(item); });
  });
})();
