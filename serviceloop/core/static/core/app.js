// Serviceloop's own small script: keyboard shortcuts, row selection, composer mode.
(function () {
  "use strict";

  function typingInField(event) {
    var el = event.target;
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.tickets tbody tr[data-href]"));
  }

  var current = -1;
  function highlight(index) {
    var list = rows();
    if (!list.length) { return; }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (row, i) { row.classList.toggle("is-current", i === current); });
    var link = list[current].querySelector("td.subject a");
    if (link) { link.focus(); }
  }

  function click(selector) {
    var el = document.querySelector(selector);
    if (el) { el.click(); return true; }
    return false;
  }

  function focusComposer(kind) {
    var radio = document.querySelector('.composer input[name="kind"][value="' + kind + '"]');
    if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
    var box = document.querySelector(".composer textarea");
    if (box) { box.focus(); }
  }

  var pendingG = false;
  document.addEventListener("keydown", function (event) {
    var dialog = document.getElementById("shortcuts");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.closest && event.target.closest(".composer")) {
      event.preventDefault();
      click(".composer button[data-send]");
      return;
    }
    if (event.key === "Escape" && typingInField(event)) { event.target.blur(); return; }
    if (typingInField(event) || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (pendingG) {
      pendingG = false;
      if (event.key === "q") { window.location.href = "/tickets/"; }
      if (event.key === "c") { window.location.href = "/customers/"; }
      return;
    }
    switch (event.key) {
      case "?":
        if (dialog && !dialog.open) { dialog.showModal(); }
        break;
      case "/": {
        var search = document.getElementById("global-search");
        if (search) { event.preventDefault(); search.focus(); }
        break;
      }
      case "g": pendingG = true; break;
      case "j": highlight(current + 1); break;
      case "k": highlight(current - 1); break;
      case "o":
      case "Enter": {
        var list = rows();
        if (current >= 0 && list[current]) { window.location.href = list[current].dataset.href; }
        break;
      }
      case "x": {
        var row = rows()[current];
        var box = row && row.querySelector('input[name="numbers"]');
        if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
        break;
      }
      case "r": event.preventDefault(); focusComposer("reply"); break;
      case "n": event.preventDefault(); focusComposer("note"); break;
      case "[": click("a[rel=prev]"); break;
      case "]": click("a[rel=next]"); break;
      default: break;
    }
  });

  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-shortcuts-open]");
    if (opener) {
      var dialog = document.getElementById("shortcuts");
      if (dialog) { dialog.showModal(); }
    }
  });

  // Selecting rows: "select all" and the count on the bulk bar.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("input[data-select-all]")) {
      document.querySelectorAll('table.tickets input[name="numbers"]').forEach(function (box) {
        box.checked = el.checked;
      });
    }
    if (el.matches && el.matches('input[name="numbers"], input[data-select-all]')) {
      var count = document.querySelectorAll('table.tickets input[name="numbers"]:checked').length;
      var label = document.querySelector("[data-selected-count]");
      if (label) { label.textContent = String(count); }
    }
    if (el.matches && el.matches('.composer input[name="kind"]')) {
      var composer = el.closest(".composer");
      var note = el.value === "note" && el.checked;
      composer.classList.toggle("is-note", note);
      var send = composer.querySelector("button[data-send]");
      if (send) { send.textContent = note ? send.dataset.noteLabel : send.dataset.replyLabel; }
      var status = composer.querySelector("[data-reply-only]");
      if (status) { status.hidden = note; }
    }
  });

  // Tell the presence endpoint whether this agent is typing a reply.
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches(".composer textarea")) {
      var flag = document.querySelector("[data-typing]");
      if (flag) { flag.value = event.target.value.trim() ? "1" : "0"; }
    }
  });
})();
