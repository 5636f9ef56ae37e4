package server

// liveScript keeps a live page up to date without reloading it
// (docs/live-view.md). Every liveEveryMillis it asks the version URL
// whether the page changed; when it has, it fetches the data sections and
// swaps them in. The reader keeps their place: the element they had
// focused is focused again (the same id, or the same link), and the
// element at the top of the window stays where it was on screen. Nothing
// is fetched while the updates are paused, while the tab is hidden, or
// while a form field has focus (someone typing there would lose their
// place). The polite status line says what changed. Without JavaScript
// the page is the same, with a manual refresh link.
const liveScript = `
(function () {
  "use strict";
  var data = document.getElementById("live-data");
  var controls = document.getElementById("live-controls");
  var status = document.getElementById("live-status");
  var pause = document.getElementById("live-pause");
  if (!data || !controls || !status || !pause || !window.fetch) { return; }
  // Both take the page's own query (a pooled view's inspections, which
  // would make the page heavy written out again).
  var versionURL = controls.getAttribute("data-version-url") + location.search;
  var dataURL = controls.getAttribute("data-data-url") + location.search;
  var every = Number(controls.getAttribute("data-every")) || 2000;
  var paused = false, busy = false;
  function say(text) { if (status.textContent !== text) { status.textContent = text; } }
  pause.hidden = false;
  pause.addEventListener("click", function () {
    paused = !paused;
    pause.setAttribute("aria-pressed", paused ? "true" : "false");
    pause.textContent = paused ? "Resume updates" : "Pause updates";
    say(paused ? "Updates paused." : "Updates resumed.");
    if (!paused) { tick(); }
  });
  function typing() {
    var a = document.activeElement;
    return !!a && (a.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName));
  }
  // keyOf names an element so that its copy in the new sections is found.
  function keyOf(el) {
    if (!el || el === data || !data.contains(el)) { return null; }
    var k = {id: el.id, href: el.getAttribute("href"), n: 0, near: null};
    if (!k.id && k.href) {
      var all = data.querySelectorAll("a[href]");
      for (var i = 0; i < all.length && all[i] !== el; i++) { if (all[i].getAttribute("href") === k.href) { k.n++; } }
    }
    var p = el.parentElement ? el.parentElement.closest("[id]") : null;
    k.near = p && data.contains(p) ? p.id : null;
    return k;
  }
  function find(k) {
    if (!k) { return null; }
    if (k.id) { var e = document.getElementById(k.id); if (e) { return e; } }
    if (k.href) {
      var all = data.querySelectorAll("a[href]"), n = 0;
      for (var i = 0; i < all.length; i++) { if (all[i].getAttribute("href") === k.href && n++ === k.n) { return all[i]; } }
    }
    return k.near ? document.getElementById(k.near) : null;
  }
  // top is the first element with an id whose top is in the window.
  function top() {
    var all = data.querySelectorAll("[id]");
    for (var i = 0; i < all.length; i++) {
      var r = all[i].getBoundingClientRect();
      if (r.top >= 0 && r.height > 0) { return all[i]; }
    }
    return null;
  }
  function swap(html) {
    var t = document.createElement("template");
    t.innerHTML = html;
    var fresh = t.content.getElementById("live-data");
    if (!fresh) { throw new Error("not the page's data"); }
    var focused = keyOf(document.activeElement);
    var mark = top(), markKey = keyOf(mark), markTop = mark ? mark.getBoundingClientRect().top : 0;
    data.replaceChildren.apply(data, Array.prototype.slice.call(fresh.childNodes));
    data.setAttribute("data-version", fresh.getAttribute("data-version"));
    data.setAttribute("data-summary", fresh.getAttribute("data-summary"));
    var again = find(markKey);
    if (again) { window.scrollBy(0, again.getBoundingClientRect().top - markTop); }
    var f = find(focused);
    if (f) {
      if (!f.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(f.tagName)) { f.setAttribute("tabindex", "-1"); }
      f.focus({preventScroll: true});
    }
  }
  function get(url) {
    return fetch(url, {cache: "no-store", credentials: "same-origin"}).then(function (r) {
      if (r.redirected) { throw new Error("signed out"); }
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r;
    });
  }
  function tick() {
    if (paused || busy || document.hidden || typing()) { return; }
    busy = true;
    get(versionURL).then(function (r) { return r.json(); }).then(function (j) {
      if (j.version === data.getAttribute("data-version")) { return; }
      return get(dataURL).then(function (r) { return r.text(); }).then(function (html) {
        if (paused || typing()) { return; }
        swap(html);
        say("Updated at " + new Date().toLocaleTimeString() + ": " + data.getAttribute("data-summary"));
      });
    }).catch(function (e) {
      say(e && e.message === "signed out" ? "Not updated: your session has ended. Use Refresh now to sign in again." :
        "Not updated: the server cannot be reached (" + (e && e.message || "error") + "). Trying again.");
    }).then(function () { busy = false; });
  }
  setInterval(tick, every);
})();
`
