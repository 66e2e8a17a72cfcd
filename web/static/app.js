// Hearth's only script: live progress of operations and live logs, through
// EventSource. Every page works without it (operation pages reload
// themselves instead).
(function () {
  "use strict";

  function stepText(state) {
    return { pending: "waiting", running: "working…", done: "done", failed: "failed", undone: "undone" }[state] || state;
  }

  function follow(section) {
    var es = new EventSource(section.getAttribute("data-op-events"));
    var bar = document.getElementById("op-bar");
    var pct = document.getElementById("op-percent");
    var msg = document.getElementById("op-message");
    es.addEventListener("progress", function (e) {
      var p = JSON.parse(e.data);
      if (p.done) {
        es.close();
        window.location.reload();
        return;
      }
      if (p.bytesTotal > 0 && bar) {
        var v = Math.min(100, Math.floor((p.bytesDone || 0) * 100 / p.bytesTotal));
        bar.value = v;
        bar.textContent = v + "%";
        if (pct) { pct.textContent = v + "% downloaded"; }
      }
      if (p.message && msg) { msg.textContent = p.message; }
      if (p.step) {
        var seen = false;
        var items = document.querySelectorAll("#op-steps li");
        for (var i = items.length - 1; i >= 0; i--) {
          var li = items[i];
          var name = li.getAttribute("data-step");
          if (name === p.step) {
            seen = true;
            li.setAttribute("data-state", "running");
          } else if (seen && li.getAttribute("data-state") !== "done") {
            li.setAttribute("data-state", "done");
          } else {
            continue;
          }
          var st = li.querySelector(".step-state");
          if (st) { st.textContent = stepText(li.getAttribute("data-state")); }
        }
      }
    });
    es.onerror = function () {
      // The box restarted or the operation ended: show the page as it is.
      es.close();
      setTimeout(function () { window.location.reload(); }, 2000);
    };
  }

  function logs(pre) {
    var es = new EventSource(pre.getAttribute("data-log-events"));
    var first = true;
    es.addEventListener("log", function (e) {
      var l = JSON.parse(e.data);
      if (first) { pre.textContent = ""; first = false; }
      var t = new Date(l.time);
      var hh = ("0" + t.getUTCHours()).slice(-2), mm = ("0" + t.getUTCMinutes()).slice(-2), ss = ("0" + t.getUTCSeconds()).slice(-2);
      var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.appendChild(document.createTextNode(hh + ":" + mm + ":" + ss + " " + l.service + " " + l.line + "\n"));
      while (pre.childNodes.length > 500) { pre.removeChild(pre.firstChild); }
      if (atEnd) { pre.scrollTop = pre.scrollHeight; }
    });
    es.onerror = function () { es.close(); };
  }

  var op = document.querySelector("[data-op-events][data-running]");
  if (op) { follow(op); }
  var pre = document.querySelector("[data-log-events]");
  if (pre) { logs(pre); }
})();
