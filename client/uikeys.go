package client

// keysJS is the case page's keys and gestures, in the scope autosaveJS
// opens (it closes it). The rules, each against a way a wrong answer got
// in unnoticed:
//   - y, n and a answer the focused question only while it is unanswered,
//     and put the cursor in its note: the rest of what is typed lands
//     there. Enter or Tab in a note (or on the choices) goes to the next
//     question; u to the next unanswered one.
//   - An answer already given changes only by a click on another choice
//     or by Change answer (Enter or a click) and then a key. Any other
//     character typed on the choices — text meant for a note — is ignored,
//     and so is every letter after it until the cursor leaves the question.
//   - Arrow keys never change a choice or a number (they scroll), and
//     Space never presses a button on a question or a section: text typed
//     in the wrong place holds spaces.
//   - When an answer with a note changes, the old note is shown and the
//     change is held (not saved, and the page does not leave) until the
//     inspector keeps or clears it.
//   - The focused question is scrolled clear of the sticky bar; after a
//     post the page comes back where the inspector was (the "at" field).
const keysJS = `
  var bar = document.getElementById("bar"), submitBtn = document.getElementById("submit");
  var todoCount = document.getElementById("todo-count"), nextTodo = document.getElementById("next-todo");
  var at = "", typing = null, changing = null, swallow = null;
  var words = {yes: "Yes", no: "No", na: "Not applicable"};

  function asked(fs) { return !fs.disabled && !fs.hidden && !!fs.querySelector("textarea"); }
  function asks() { return Array.prototype.slice.call(form.querySelectorAll("fieldset[data-q]")).filter(asked); }
  function qid(fs) { return fs.getAttribute("data-q"); }
  function value(fs) { return inputs(fs).v; }
  function noteOf(fs) { return fs.querySelector("textarea"); }
  function entry(fs) { return fs.querySelector("input[type=radio]:checked") || fs.querySelector("input[type=radio], input[type=number]"); }
  function word(v) { return words[v] || v; }

  // reveal scrolls a question clear of the sticky bar and the window's
  // top (the element focused in it, if the whole does not fit).
  function reveal(fs, el) {
    var m = 16, bottom = bar ? bar.getBoundingClientRect().top : window.innerHeight;
    var r = fs.getBoundingClientRect();
    if (r.height > bottom - 2 * m && el) { r = el.getBoundingClientRect(); }
    if (r.bottom > bottom - m) { window.scrollBy(0, Math.min(r.bottom - bottom + m, r.top - m)); }
    else if (r.top < m) { window.scrollBy(0, r.top - m); }
  }
  function pad() { if (bar) { document.documentElement.style.scrollPaddingBottom = (bar.offsetHeight + 24) + "px"; } }
  pad(); window.addEventListener("resize", pad);

  function go(fs, el) {
    el = el || entry(fs) || fs;
    el.focus({preventScroll: true});
    reveal(fs, el);
    return true;
  }
  function nextQuestion(fs) {
    var list = asks(), i = list.indexOf(fs);
    if (i >= 0 && i + 1 < list.length) { return go(list[i + 1]); }
    submitBtn.focus();
    say("That was the last question: Submit case is next.", false);
    return true;
  }
  function nextUnanswered(fs) {
    var list = asks(), i = fs ? list.indexOf(fs) : -1;
    for (var k = 1; k <= list.length; k++) {
      var c = list[(i + k + list.length) % list.length];
      if (value(c) === "") { return go(c); }
    }
    submitBtn.focus();
    say("Every question asked now is answered.", false);
    return true;
  }

  // refresh marks the unanswered questions and shows Change answer where
  // there is an answer to change; a saved number is locked like a choice.
  function refresh() {
    var n = 0;
    form.querySelectorAll("fieldset[data-q]").forEach(function (fs) {
      var m = fs.querySelector(".todo-mark");
      if (!m) { return; }
      var todo = asked(fs) && value(fs) === "";
      m.hidden = !todo; fs.classList.toggle("todo", todo);
      if (todo) { n++; }
      var ch = fs.querySelector("button.change");
      if (ch) { ch.hidden = value(fs) === "" || changing === fs; }
      var num = fs.querySelector("input[type=number]");
      if (num) { num.readOnly = saved[qid(fs)] !== "" && changing !== fs && !fs.classList.contains("invalid"); }
    });
    if (todoCount) { todoCount.textContent = n ? n + " unanswered" : "all answered"; }
    if (nextTodo) { nextTodo.hidden = false; }
  }

  function choose(fs, v) {
    var r = fs.querySelector('input[type=radio][value="' + v + '"]');
    if (!r) { return; }
    r.checked = true;
    chosen(fs);
  }
  // chosen follows a choice or a number, by key or click: saved at once,
  // unless it changes a saved answer that has a note (then held, and the
  // inspector asked whether the note still stands).
  function chosen(fs) {
    var q = qid(fs), old = saved[q], v = value(fs), note = noteOf(fs);
    changing = null;
    if (old !== "" && v !== "" && v !== old && note.value.trim() !== "") { ask(fs, old, v); return; }
    var p = fs.querySelector(".keep");
    if (p) { p.remove(); delete held[q]; }
    refresh(); save();
    if (fs.querySelector("input[type=radio]")) { go(fs, note); }
  }
  function ask(fs, old, v) {
    var q = qid(fs), note = noteOf(fs);
    held[q] = old;
    var p = fs.querySelector(".keep");
    if (!p) {
      p = document.createElement("div");
      p.className = "keep"; p.setAttribute("role", "group"); p.setAttribute("aria-label", "The note of " + q);
      var t = document.createElement("p"); t.className = "keep-text";
      var keep = document.createElement("button"); keep.type = "button"; keep.className = "keep-note"; keep.textContent = "Keep the note";
      var clear = document.createElement("button"); clear.type = "button"; clear.className = "clear-note"; clear.textContent = "Clear the note";
      p.appendChild(t); p.appendChild(keep); p.appendChild(document.createTextNode(" ")); p.appendChild(clear);
      note.insertAdjacentElement("afterend", p);
    }
    p.querySelector(".keep-text").textContent = "You changed " + q + " from " + word(old) + " to " + word(v) + ". Its note was written for " + word(old) +
      ": \u201c" + note.value + "\u201d. Does it still stand? The change is saved once you choose.";
    refresh();
    say(q + ": keep or clear its note to save the change.", true);
    go(fs, p.querySelector(".keep-note"));
  }
  // holding stops a post or a link while a change waits for its note.
  function holding(e) {
    var qs = Object.keys(held);
    if (!qs.length) { return false; }
    e.preventDefault();
    var fs = document.getElementById("q-" + qs[0]);
    go(fs, fs.querySelector(".keep-note"));
    say("First say whether the note of " + qs[0] + " still stands (Keep the note or Clear the note): its change is not saved yet.", true);
    return true;
  }
  function typed(fs) {
    typing = fs;
    say(qid(fs) + ": typing here does not answer it, and letters are ignored on this question until you leave it. Notes go in the note box.", true);
  }
  function locked(fs) {
    typing = fs;
    say(qid(fs) + " is answered " + word(value(fs)) + ": to change it, click another choice, or press Change answer (Enter) and then y, n or a.", true);
  }

  // Focus by a click is where the pointer is: scrolling then would move
  // the choice from under the pointer before the click ends.
  var pointing = false;
  document.addEventListener("mousedown", function () { pointing = true; }, true);
  document.addEventListener("mouseup", function () { setTimeout(function () { pointing = false; }, 0); }, true);
  form.addEventListener("focusin", function (e) {
    var fs = e.target.closest && e.target.closest("fieldset[data-q]");
    if (typing && typing !== fs) { typing = null; }
    if (changing && changing !== fs) { changing = null; refresh(); }
    if (fs) { at = e.target.id || fs.id; if (!pointing) { reveal(fs, e.target); } }
  });

  form.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t.classList && t.classList.contains("na-all") && e.key === " ") { e.preventDefault(); return; }
    var fs = t.closest && t.closest("fieldset[data-q]");
    if (!fs || !asked(fs) || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var isNote = t.tagName === "TEXTAREA", isNum = t.type === "number", isRadio = t.type === "radio";
    if (t.tagName === "BUTTON") {
      if (e.key === " " || e.key === "Enter" && typing === fs) { e.preventDefault(); }
      else if (e.key.length === 1) { e.preventDefault(); typed(fs); }
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && (isNote || isNum || isRadio || t === fs)) { e.preventDefault(); nextQuestion(fs); return; }
    if (e.key === "Tab" && !e.shiftKey && isNote) { e.preventDefault(); nextQuestion(fs); return; }
    if (isNote) { return; }
    if (isNum) {
      if (/^(ArrowUp|ArrowDown|PageUp|PageDown)$/.test(e.key)) { e.preventDefault(); }
      else if (t.readOnly && e.key.length === 1) { e.preventDefault(); locked(fs); }
      return;
    }
    if (isRadio && (/^(Arrow|Page|Home|End)/.test(e.key) || e.key === " ")) {
      e.preventDefault(); // a choice is not changed by these: they scroll
      var step = {ArrowDown: 40, ArrowUp: -40, PageDown: window.innerHeight * 0.8, PageUp: -window.innerHeight * 0.8}[e.key];
      if (step) { window.scrollBy(0, step); }
      return;
    }
    if (e.key.length !== 1) { return; }
    e.preventDefault();
    if (typing === fs) { return; }
    if (e.key === "u") { nextUnanswered(fs); return; }
    var v = {y: "yes", n: "no", a: "na"}[e.key];
    if (!v) { typed(fs); return; }
    if (!fs.querySelector("input[type=radio]")) { return; }
    if (value(fs) !== "" && changing !== fs) { locked(fs); return; }
    // The cursor moves to the note at once, so that what is typed next
    // lands there; the answer key's own character, if the browser still
    // sends it, must not (until the key is released).
    swallow = e.key;
    choose(fs, v);
  });
  document.addEventListener("keypress", function (e) {
    if (swallow && e.key === swallow) { e.preventDefault(); }
    // Enter never posts the form from an input (the browser's implicit
    // submission would press its first button, Sync now): it moves on.
    if (e.key === "Enter" && e.target.tagName === "INPUT" && e.target.form === form) { e.preventDefault(); }
  }, true);
  document.addEventListener("keyup", function (e) { if (e.key === swallow) { swallow = null; } }, true);

  form.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button");
    var fs = b && b.closest("fieldset[data-q]");
    if (!fs) { return; }
    var q = qid(fs), note = noteOf(fs);
    if (b.classList.contains("keep-note") || b.classList.contains("clear-note")) {
      if (b.classList.contains("clear-note")) { note.value = ""; }
      fs.querySelector(".keep").remove(); delete held[q];
      refresh(); save(); go(fs, note);
    } else if (b.classList.contains("change")) {
      changing = fs; refresh();
      var num = fs.querySelector("input[type=number]");
      go(fs, num || entry(fs));
      say(num ? "Type the new number for " + q + "." : "Press y, n or a for the new answer of " + q + " (or click it).", false);
    }
  });
  if (nextTodo) {
    nextTodo.addEventListener("click", function () {
      var el = at && document.getElementById(at);
      nextUnanswered(el && el.closest("fieldset[data-q]"));
    });
  }

  // Back where the inspector was: the element the address names (after a
  // post), or the first problem listed.
  refresh();
  (function () {
    var first = document.querySelector("#problems a");
    var h = decodeURIComponent(location.hash.slice(1));
    var el = h && document.getElementById(h);
    if (!el) { if (first) { first.focus(); } return; }
    var fs = el.closest("fieldset[data-q]");
    if (fs && asked(fs)) { go(fs, el === fs ? null : el); }
  })();
})();
`
