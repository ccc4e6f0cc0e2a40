// Lumina dashboard behaviour: theme, keyboard shortcuts, row links, copy buttons, inspector
// tabs and span switching, live trace updates over Server-Sent Events, and replay run
// progress. Pages work without it; this only makes them quicker to use. All HTML it inserts was rendered (and
// escaped) by the server's html/template; it never builds markup from data.
(function () {
  "use strict";
  var doc = document, root = doc.documentElement;

  // Theme: an explicit choice is stored; otherwise prefers-color-scheme decides.
  function currentTheme() {
    var t = root.getAttribute("data-theme");
    if (t) return t;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  function toggleTheme() {
    var next = currentTheme() === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    try { localStorage.setItem("lumina-theme", next); } catch (e) { /* ignore */ }
    label();
  }
  function label() {
    var b = doc.getElementById("theme-toggle");
    if (b) b.textContent = currentTheme() === "dark" ? "Light theme" : "Dark theme";
  }

  function fromHTML(html) {
    var t = doc.createElement("template");
    t.innerHTML = html.trim();
    return t.content;
  }

  // Row navigation: clicking anywhere on a row with data-href opens it.
  doc.addEventListener("click", function (e) {
    var a = e.target.closest("a, button, input, select, summary, form");
    var tr = e.target.closest("tr[data-href]");
    if (tr && !a && !window.getSelection().toString()) { window.location.href = tr.getAttribute("data-href"); return; }
    var copy = e.target.closest("[data-copy]");
    if (copy) {
      var src = doc.getElementById(copy.getAttribute("data-copy"));
      if (src && navigator.clipboard) {
        navigator.clipboard.writeText(src.textContent).then(function () {
          copy.textContent = "Copied";
          setTimeout(function () { copy.textContent = "Copy"; }, 1500);
        });
      }
      return;
    }
    var tab = e.target.closest('[role="tab"]');
    if (tab) { selectTab(tab); return; }
    var toggle = e.target.closest(".wf-toggle");
    if (toggle) { collapse(toggle); return; }
    var span = e.target.closest(".wf-row a.wf-link");
    if (span && !e.metaKey && !e.ctrlKey && !e.shiftKey) { e.preventDefault(); openSpan(span.closest(".wf-row")); }
  });
  doc.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  // Span tree: collapse or expand a span's descendants (the rows after it that are deeper).
  function collapse(toggle) {
    var row = toggle.closest(".wf-row"), depth = +row.getAttribute("data-depth");
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    row.setAttribute("aria-expanded", open ? "true" : "false");
    for (var r = row.nextElementSibling; r && +r.getAttribute("data-depth") > depth; r = r.nextElementSibling) {
      r.hidden = !open;
      var t = r.querySelector(".wf-toggle");
      if (open && t) { t.setAttribute("aria-expanded", "true"); r.setAttribute("aria-expanded", "true"); }
    }
  }

  // Inspector tabs: without script every panel shows; with it, one at a time.
  function initTabs(scope) {
    var tabs = scope.querySelectorAll('[role="tab"]');
    var chosen = null;
    tabs.forEach(function (t) { if (t.getAttribute("aria-selected") === "true" && !chosen) chosen = t; });
    if (chosen) selectTab(chosen);
  }
  function selectTab(tab) {
    var list = tab.closest('[role="tablist"]');
    list.querySelectorAll('[role="tab"]').forEach(function (t) {
      var on = t === tab, panel = doc.getElementById(t.getAttribute("aria-controls"));
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      if (panel) panel.hidden = !on;
    });
  }

  // Span inspector: swap in the server-rendered fragment, keep the URL deep-linkable.
  function openSpan(row) {
    if (!row) return;
    var url = row.getAttribute("data-fragment"), insp = doc.getElementById("inspector");
    if (!url || !insp) return;
    doc.querySelectorAll(".wf-row.selected").forEach(function (r) { r.classList.remove("selected"); r.setAttribute("aria-selected", "false"); });
    row.classList.add("selected");
    row.setAttribute("aria-selected", "true");
    fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin" }).then(function (res) {
      if (!res.ok) throw new Error(res.status + " " + res.statusText);
      return res.text();
    }).then(function (html) {
      insp.replaceChildren(fromHTML(html));
      initTabs(insp);
      var u = new URL(window.location.href);
      u.searchParams.set("span", row.getAttribute("data-span-id"));
      u.hash = "";
      history.replaceState(null, "", u.toString());
    }).catch(function (err) {
      insp.replaceChildren();
      var p = doc.createElement("p");
      p.className = "empty";
      p.textContent = "Could not load the span: " + err.message;
      insp.appendChild(p);
    });
  }

  // Keyboard: g-prefixed navigation, j/k selection, Enter, /, n/p, t, ?.
  var pendingG = 0;
  function rows() {
    var wf = doc.querySelectorAll(".wf-row:not([hidden])");
    if (wf.length) return Array.prototype.slice.call(wf);
    return Array.prototype.slice.call(doc.querySelectorAll(".rows-link tbody tr[data-href]"));
  }
  function move(step) {
    var list = rows();
    if (!list.length) return;
    var cur = list.findIndex(function (r) { return r.classList.contains("kb") || r.classList.contains("selected"); });
    var next = list[Math.max(0, Math.min(list.length - 1, cur < 0 ? 0 : cur + step))];
    list.forEach(function (r) { r.classList.remove("kb"); });
    next.classList.add("kb");
    next.scrollIntoView({ block: "nearest" });
    if (next.classList.contains("wf-row")) openSpan(next);
  }
  doc.addEventListener("keydown", function (e) {
    if (e.metaKey || e.ctrlKey || e.altKey) return;
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || e.target.isContentEditable) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (pendingG && Date.now() - pendingG < 1200) {
      pendingG = 0;
      var dest = { h: "/", t: "/traces", c: "/cost", s: "/settings" }[e.key];
      if (dest) { e.preventDefault(); window.location.href = dest; }
      return;
    }
    switch (e.key) {
      case "g": pendingG = Date.now(); return;
      case "j": e.preventDefault(); move(1); return;
      case "k": e.preventDefault(); move(-1); return;
      case "Enter": {
        var sel = doc.querySelector(".rows-link tbody tr.kb[data-href]");
        if (sel) { e.preventDefault(); window.location.href = sel.getAttribute("data-href"); }
        return;
      }
      case "/": {
        var f = doc.querySelector("[data-focus-key]");
        if (f) { e.preventDefault(); f.focus(); }
        return;
      }
      case "n": case "p": {
        var link = doc.querySelector('[data-key="' + e.key + '"]');
        if (link) { e.preventDefault(); window.location.href = link.getAttribute("href"); }
        return;
      }
      case "t": toggleTheme(); return;
      case "?": {
        var d = doc.getElementById("help");
        if (d && !d.open) d.showModal();
        return;
      }
    }
  });

  // Live updates: the stream sends rendered rows ("trace") and a "tick" after every poll.
  function live() {
    var status = doc.getElementById("live-status");
    if (!status || !window.EventSource) return;
    var url = status.getAttribute("data-live-url"), text = status.querySelector(".live-text");
    var lastTick = 0, connected = false;
    var es = new EventSource(url);
    es.addEventListener("open", function () { connected = true; });
    es.addEventListener("error", function () { connected = false; render(); });
    es.addEventListener("tick", function () { lastTick = Date.now(); connected = true; render(); });
    es.addEventListener("trace", function (ev) {
      var table = doc.querySelector("[data-live-rows]");
      if (!table) return;
      var body = table.tBodies[0], frag = fromHTML(ev.data), row = frag.firstElementChild;
      if (!row) return;
      var id = row.getAttribute("data-trace-id");
      if (id && body.querySelector('tr[data-trace-id="' + CSS.escape(id) + '"]')) return;
      body.querySelectorAll("tr.empty-row").forEach(function (r) { r.remove(); });
      row.classList.add("fresh");
      body.insertBefore(row, body.firstChild);
      var max = parseInt(table.getAttribute("data-max-rows") || "200", 10);
      while (body.rows.length > max) body.deleteRow(body.rows.length - 1);
      lastTick = Date.now();
      render();
    });
    function render() {
      var secs = lastTick ? Math.max(0, Math.round((Date.now() - lastTick) / 1000)) : -1;
      status.classList.toggle("on", connected && secs >= 0 && secs < 5);
      status.classList.toggle("stale", !connected || secs >= 5);
      if (secs < 0) text.textContent = connected ? "Live" : "Connecting…";
      else if (!connected) text.textContent = "Reconnecting · updated " + secs + "s ago";
      else text.textContent = "Live · updated " + secs + "s ago";
    }
    setInterval(render, 1000);
    window.addEventListener("pagehide", function () { es.close(); });
  }

  // Replay run progress: while the run is queued or running, re-fetch the server-rendered
  // progress block every second; when it says the run is over, reload for the results.
  function pollProgress() {
    var el = doc.querySelector("[data-poll-url]");
    if (!el) return;
    var url = el.getAttribute("data-poll-url");
    function again(ms) { setTimeout(tick, ms); }
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } }).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (html === null) { again(3000); return; }
        var next = fromHTML(html).firstElementChild;
        if (!next) { again(3000); return; }
        el.replaceWith(next);
        el = next;
        if (next.hasAttribute("data-poll-url")) again(1000); else window.location.reload();
      }, function () { again(3000); });
    }
    again(1000);
  }

  function init() {
    label();
    var tb = doc.getElementById("theme-toggle");
    if (tb) tb.addEventListener("click", toggleTheme);
    var hb = doc.getElementById("help-open"), help = doc.getElementById("help");
    if (hb && help) hb.addEventListener("click", function () { help.showModal(); });
    var insp = doc.getElementById("inspector");
    if (insp) initTabs(insp);
    var sel = doc.querySelector(".wf-row.selected");
    if (sel) sel.scrollIntoView({ block: "nearest" });
    live();
    pollProgress();
  }
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", init); else init();
})();
