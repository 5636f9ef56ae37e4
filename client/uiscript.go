package client

// autosaveJS runs on the case page. It saves each answer and note to the
// local store as it is made: a choice or a number on change, a note after
// a pause in typing and when it loses focus (saveForm does the saving).
// Only the questions changed since their last save are sent, numbered, so
// the server never lets an older save of the page replace a newer one.
// Nothing made on the page is lost by leaving it:
//   - a link (My cases, Conflicts) waits for the save before it navigates;
//   - Save answers, Submit case and Sync now post the changed and the
//     refused questions themselves and the server saves them first (the
//     fallback should a save by script have failed);
//   - closing, reloading or hiding the tab sends what is left with
//     navigator.sendBeacon;
//   - an input the store refuses keeps its message beside the question,
//     and leaving the page then asks first.
//
// Without script the page still works: Save answers posts the whole form.
//
// autosaveJS opens the page's one function scope and keysJS (uikeys.go),
// the keys and gestures, closes it: the page's script is the two joined,
// sharing save, the acknowledged inputs and the answers held for a note.
const autosaveJS = `
(function () {
  var form = document.getElementById("answers");
  var status = document.getElementById("save-status");
  var unsynced = document.getElementById("unsynced");
  var url = form.getAttribute("data-autosave");
  var seq = 0, inflight = null, again = false, failed = false, leaving = false, timer = null;
  var acked = {}; // question → its inputs as last saved (or refused)
  var saved = {}; // question → its answer as the store holds it
  var held = {};  // question → its saved answer, while the inspector says whether its note still stands

  function sets() { return Array.prototype.slice.call(form.querySelectorAll("fieldset[data-q]")).filter(function (fs) { return fs.querySelector("textarea") && !fs.disabled; }); }
  function inputs(fs) {
    var q = fs.getAttribute("data-q"), v = "";
    var c = fs.querySelector('input[type=radio]:checked');
    var n = fs.querySelector('input[type=number]');
    if (c) { v = c.value; } else if (n) { v = n.value; }
    return {q: q, v: v, n: fs.querySelector("textarea").value, has: !!(c || n)};
  }
  function key(i) { return i.v + "\u0000" + i.n; }
  // A question held for its note is not sent until the inspector decides.
  function changed() { return sets().map(inputs).filter(function (i) { return !held[i.q] && acked[i.q] !== key(i); }); }
  form.querySelectorAll("fieldset[data-q]").forEach(function (fs) {
    if (fs.querySelector("textarea")) { var i = inputs(fs); acked[i.q] = key(i); saved[i.q] = fs.getAttribute("data-saved") || ""; }
  });

  function body(list) {
    var b = new URLSearchParams();
    b.set("csrf", form.elements.csrf.value);
    b.set("form_id", form.elements.form_id.value);
    b.set("seq", String(++seq));
    list.forEach(function (i) { if (i.has) { b.set("v-" + i.q, i.v); } b.set("n-" + i.q, i.n); });
    return b;
  }
  function say(text, isErr) { status.textContent = text; status.className = isErr ? "hint error" : "hint"; }
  function mark(q, msg) {
    var fs = document.getElementById("q-" + q);
    var p = document.getElementById("msg-" + q);
    var num = fs.querySelector("input[type=number]");
    if (msg) {
      if (!p) {
        p = document.createElement("p");
        p.className = "msg"; p.id = "msg-" + q;
        fs.querySelector("legend").insertAdjacentElement("afterend", p);
      }
      p.textContent = msg;
      fs.classList.add("invalid");
      if (num) { num.setAttribute("aria-invalid", "true"); num.setAttribute("aria-describedby", p.id); }
    } else if (p) {
      p.remove();
      fs.classList.remove("invalid");
      if (num) { num.removeAttribute("aria-invalid"); num.removeAttribute("aria-describedby"); }
    }
  }
  function refused() { return form.querySelectorAll("p.msg").length; }
  // show applies what a save says of the questions whose rules name
  // answers: asked now, not asked (hidden, its inputs not sent), or not
  // asked but holding an answer to clear (shown with why). The rule is
  // the store's, judged there; the page only follows it.
  function show(states) {
    Object.keys(states || {}).forEach(function (q) {
      var fs = document.getElementById("q-" + q), s = states[q];
      if (!fs) { return; }
      fs.hidden = s.hidden; fs.disabled = s.hidden;
      var p = document.getElementById("why-" + q);
      if (p) {
        p.hidden = !s.stale;
        p.textContent = "Not asked now: " + s.why + ". The answer below is kept but counts in no figure: choose Not applicable to clear it.";
      }
    });
  }

  // save sends what changed; one save at a time, then the next if more changed.
  function save() {
    clearTimeout(timer); timer = null;
    // Once a button posts the page, the post carries every change: a save
    // now (the focused note, disabled as the page posts, loses focus)
    // would be numbered after it and make the server skip the post's
    // inputs, and with them the refusals the page must show.
    if (leaving) { return Promise.resolve(); }
    if (inflight) { again = true; return inflight; }
    var list = changed();
    if (!list.length) { return Promise.resolve(); }
    var b = body(list);
    say("Saving…");
    var opts = {method: "POST", body: b, credentials: "same-origin", headers: {"Accept": "application/json"}};
    // A keepalive request outlives the page, but only a small one is allowed.
    if (b.toString().length < 60000) { opts.keepalive = true; }
    inflight = fetch(url, opts).then(function (r) {
      if (!r.ok) { return r.text().then(function (t) { throw new Error(t.trim() || r.statusText); }); }
      return r.json();
    }).then(function (res) {
      failed = false;
      list.forEach(function (i) {
        var err = res.errors && res.errors[i.q];
        acked[i.q] = key(i); mark(i.q, err);
        if (!err && i.has) { saved[i.q] = i.v; }
      });
      show(res.shown);
      refresh();
      if (unsynced) { unsynced.textContent = String(res.unsynced); }
      var n = refused();
      if (n) { say(n + " answer(s) not saved: see the message beside each.", true); }
      else { say("All answers saved on this laptop (" + new Date().toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}) + ")."); }
    }, function (e) {
      failed = true;
      say("Not saved: " + e.message + " Your answers are still on this page: press Save answers.", true);
    }).then(function () {
      inflight = null;
      if (again && !failed) { again = false; return save(); }
      again = false;
    });
    return inflight;
  }
  function later(ms) { clearTimeout(timer); timer = setTimeout(save, ms); }

  form.addEventListener("change", function (e) {
    var fs = e.target.closest && e.target.closest("fieldset[data-q]");
    if (fs && (e.target.type === "radio" || e.target.type === "number")) { chosen(fs); return; }
    save();
  });
  form.addEventListener("input", function (e) { if (e.target.tagName === "TEXTAREA") { later(700); } });
  form.addEventListener("focusout", function (e) { if (e.target.tagName === "TEXTAREA" || e.target.type === "number") { save(); } });

  // The buttons post the page: what changed and what was refused go (the
  // rest is saved already, and a stale copy of it must not replace a newer
  // save; a refused input comes back with its message), numbered after
  // every autosave so none of those can overtake it.
  form.addEventListener("submit", function (e) {
    if (holding(e)) { return; }
    clearTimeout(timer); timer = null;
    leaving = true;
    var keep = {};
    changed().forEach(function (i) { keep[i.q] = true; });
    sets().forEach(function (fs) {
      var off = !keep[fs.getAttribute("data-q")] && !fs.classList.contains("invalid");
      fs.querySelectorAll("input, textarea").forEach(function (el) { el.disabled = off; });
    });
    form.elements.seq.value = String(++seq);
    form.elements.at.value = at;
    leaving = true;
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) { form.querySelectorAll("input, textarea").forEach(function (el) { el.disabled = false; }); leaving = false; }
  });

  // A link waits for the save, and stays on the page if it failed.
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[href]");
    if (!a || e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || a.target) { return; }
    if (a.getAttribute("href").indexOf("#q-") === 0) { // a problem's link: to its question, ready to answer
      var to = document.getElementById(decodeURIComponent(a.getAttribute("href").slice(1)));
      if (to) { e.preventDefault(); go(to); }
      return;
    }
    if (holding(e)) { return; }
    if (!inflight && !timer && !changed().length) { return; }
    e.preventDefault();
    save().then(function () { if (!failed) { leaving = true; location.href = a.href; } });
  });

  // Closing, reloading or hiding the tab: what is left goes in a beacon.
  function flush() {
    clearTimeout(timer); timer = null;
    var list = changed();
    if (!list.length) { return; }
    if (!inflight) { save(); return; }
    navigator.sendBeacon(url, body(list));
  }
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden" && !leaving) { flush(); } });
  window.addEventListener("pagehide", function () { if (!leaving) { flush(); } });
  window.addEventListener("beforeunload", function (e) {
    if (!leaving && (refused() || failed || Object.keys(held).length)) { e.preventDefault(); e.returnValue = ""; }
  });

  say(refused() ? refused() + " answer(s) not saved: see the message beside each." : "Answers are saved on this laptop as you make them.", refused() > 0);
`
