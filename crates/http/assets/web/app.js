// aftersale workbench: live countdowns from the service clock, confirm dialogs, reply templates
// and auto-submitting pickers. The pages work without it.
(function () {
  "use strict";
  var body = document.body;
  var serverNow = Number(body.getAttribute("data-now")) || Date.now();
  var skew = serverNow - Date.now();
  var zh = (body.getAttribute("data-lang") || "").indexOf("zh") === 0;

  function leftText(ms) {
    if (ms <= 0) return zh ? "已到期" : "due now";
    var mins = Math.ceil(ms / 60000), d = Math.floor(mins / 1440), h = Math.floor(mins / 60) % 24, m = mins % 60;
    if (zh) return d > 0 ? "剩" + d + "天" + h + "小时" : h > 0 ? "剩" + h + "小时" + m + "分" : "剩" + m + "分";
    return d > 0 ? d + "d " + h + "h left" : h > 0 ? h + "h " + m + "m left" : m + "m left";
  }

  function tick() {
    var now = Date.now() + skew;
    var els = document.querySelectorAll("time.countdown[data-due]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i], left = Number(el.getAttribute("data-due")) - now, near = Number(el.getAttribute("data-near"));
      var text = leftText(left);
      if (el.textContent !== text) el.textContent = text;
      el.classList.toggle("overdue", left <= 0);
      el.classList.toggle("near", left > 0 && left <= near);
    }
  }
  tick();
  setInterval(tick, 15000);

  document.addEventListener("submit", function (ev) {
    var btn = ev.submitter || ev.target.querySelector("button[data-confirm]");
    var msg = btn && btn.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); return; }
    // One click sends once: the server's idempotency key covers a second send anyway.
    if (btn) setTimeout(function () { btn.disabled = true; }, 0);
  });

  var pickers = document.querySelectorAll("select[name=template]");
  for (var i = 0; i < pickers.length; i++) {
    pickers[i].addEventListener("change", function (ev) {
      var form = ev.target.form, t = form.querySelector("template[data-template='" + ev.target.value + "']");
      var area = form.querySelector("textarea[name=text]");
      if (t && area) area.value = t.content ? t.content.textContent : t.textContent;
    });
  }

  var auto = document.querySelectorAll("select[data-autosubmit]");
  for (var j = 0; j < auto.length; j++) {
    auto[j].addEventListener("change", function (ev) { ev.target.form.submit(); });
    var b = auto[j].form.querySelector("button[type=submit]");
    if (b) b.classList.add("sr");
  }
})();
