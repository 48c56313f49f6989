// LMS Admin's own behaviour, as event listeners: the Content-Security-Policy runs no inline
// <script>, on*= attribute or hx-on attribute, so every handler a template needs lives here.
// Listeners sit on the document, so they also serve markup that htmx swaps in later.
"use strict";

// <input type="search" data-search-on-enter>: Enter runs the search (the element's hx-trigger
// lists "search") instead of submitting the half-filled form around it.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !(event.target instanceof Element)) {
    return;
  }
  const input = event.target.closest("[data-search-on-enter]");
  if (input) {
    event.preventDefault();
    htmx.trigger(input, "search");
  }
});

// <form data-submit-once>: the first submit disables its buttons, so a double click sends one
// request (the server is idempotent too: the second launch of a draft joins the first).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches("[data-submit-once]")) {
    return;
  }
  if (form.dataset.submitted) {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "true";
  form.setAttribute("aria-busy", "true");
  // After this event's default action has started, so the clicked button's value is sent.
  setTimeout(() => {
    for (const button of form.querySelectorAll("button, input[type=submit]")) {
      button.disabled = true;
    }
  }, 0);
});

// <input data-choices="ID">: a search box over a list of radios (the integration form's author
// picker). Arrow Down moves into the list, onto the chosen radio or the first one; there the
// browser's own radio keys take over (arrows choose, Tab leaves).
document.addEventListener("keydown", (event) => {
  if (event.key !== "ArrowDown" || !(event.target instanceof HTMLInputElement)) {
    return;
  }
  const list = event.target.dataset.choices && document.getElementById(event.target.dataset.choices);
  if (!list) {
    return;
  }
  const radio = list.querySelector("input[type=radio]:checked") || list.querySelector("input[type=radio]");
  if (radio) {
    event.preventDefault();
    radio.focus();
  }
});

// ==== Connections and forms (issue 17) ====
// <form data-clears-messages hx-post=…>: once its answer is in, the flash messages of the
// previous page ("Connection … added") go: a red test result must not sit under a green
// message that no longer describes where things stand. Without JavaScript the form posts and
// the next page shows only its own messages.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.target instanceof Element ? event.target.closest("form[data-clears-messages]") : null;
  if (form && event.detail.successful) {
    for (const list of document.querySelectorAll("main .messages")) {
      list.remove();
    }
  }
});

// A form that comes back with errors: the keyboard and screen-reader focus moves to its error
// summary (or to its form-wide error), so nobody has to hunt for what went wrong.
function focusErrorSummary(root) {
  const summary = root.querySelector("[data-error-summary]") || root.querySelector(".form-errors[role=alert]");
  if (summary) {
    if (!summary.hasAttribute("tabindex")) {
      summary.setAttribute("tabindex", "-1");
    }
    summary.focus();
  }
}
document.addEventListener("DOMContentLoaded", () => focusErrorSummary(document));
// A link of the summary puts the focus in the field itself (following "#id" only scrolls).
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("[data-error-summary] a[href^='#']") : null;
  const control = link ? document.getElementById(link.getAttribute("href").slice(1)) : null;
  if (control) {
    event.preventDefault();
    control.scrollIntoView({ block: "center" });
    control.focus();
  }
});
document.addEventListener("htmx:afterSettle", (event) => {
  if (event.target instanceof Element) {
    focusErrorSummary(event.target);
  }
});
// ==== end of Connections and forms ====

// ==== Manager scope: the group picker (templates/reports/managerscope_form.html) ====
// <fieldset data-group-picker data-disabled-by="ID">: a checkbox per group. The search box
// (shown here, as it needs script) hides the groups whose label lacks its words; the status line
// counts the ticked groups; the fieldset is disabled while the checkbox ID ("every learner") is
// ticked. Without script every group shows and the server ignores them under "every learner".
function groupPickerUpdate(picker) {
  const boxes = picker.querySelectorAll(".group-options input[type=checkbox]");
  const count = picker.querySelector("[data-group-count]");
  if (count) {
    const ticked = Array.from(boxes).filter((box) => box.checked).length;
    count.textContent = `${ticked} group${ticked === 1 ? "" : "s"} selected`;
  }
  const filter = picker.querySelector("[data-group-filter]");
  const words = filter ? filter.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
  let shown = 0;
  for (const box of boxes) {
    const item = box.closest("li");
    const text = item.textContent.toLowerCase();
    // Hidden groups stay ticked (and saved): the count above says how many are.
    const match = words.every((word) => text.includes(word));
    item.hidden = !match;
    shown += match ? 1 : 0;
  }
  const none = picker.querySelector("[data-group-none]");
  if (none) {
    none.hidden = shown > 0;
  }
}

function groupPickerToggle(picker) {
  const switcher = document.getElementById(picker.dataset.disabledBy || "");
  if (switcher) {
    picker.disabled = switcher.checked;
  }
}

htmx.onLoad((root) => {
  for (const picker of root.querySelectorAll("[data-group-picker]")) {
    const box = picker.querySelector("[data-group-filter-box]");
    if (box) {
      box.hidden = false;
    }
    groupPickerToggle(picker);
    groupPickerUpdate(picker);
  }
});

document.addEventListener("input", (event) => {
  const picker = event.target instanceof Element && event.target.closest("[data-group-picker]");
  if (picker) {
    groupPickerUpdate(picker);
  }
});

document.addEventListener("change", (event) => {
  if (!(event.target instanceof HTMLInputElement)) {
    return;
  }
  const picker = event.target.closest("[data-group-picker]");
  if (picker) {
    groupPickerUpdate(picker);
  }
  for (const controlled of document.querySelectorAll(`[data-disabled-by="${CSS.escape(event.target.id)}"]`)) {
    groupPickerToggle(controlled);
  }
});

// Enter in the group search box filters; it does not submit the scope form half-filled.
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target instanceof Element && event.target.matches("[data-group-filter]")) {
    event.preventDefault();
  }
});
// ==== end of the group picker ====

// ==== Layout (issue 17): the phone menu, scrollable tables ====
// The phone menu (base.html): the "Menu" button shows and hides the main navigation below
// 60rem; at wider widths the CSS ignores the button's state. Escape closes it.
(() => {
  const toggle = document.querySelector(".nav-toggle");
  if (!toggle) {
    return;
  }
  toggle.closest(".topbar").classList.add("has-menu");
  const setOpen = (open) => toggle.setAttribute("aria-expanded", open ? "true" : "false");
  toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      setOpen(false);
      toggle.focus();
    }
  });
})();

// A table box that scrolls (a wide table on a phone) takes the keyboard focus, so it can be
// scrolled with the arrow keys even when no link inside it is; boxes that fit stay out of the
// Tab order.
function markScrollableTables() {
  for (const box of document.querySelectorAll(".table-scroll, .table")) {
    if (box.matches(".table-scroll > .table")) {
      continue;
    }
    const style = getComputedStyle(box);
    const scrolls =
      (/auto|scroll/.test(style.overflowX) && box.scrollWidth > box.clientWidth + 1) ||
      (/auto|scroll/.test(style.overflowY) && box.scrollHeight > box.clientHeight + 1);
    if (scrolls && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      box.dataset.scrollFocus = "true";
    } else if (!scrolls && box.dataset.scrollFocus) {
      box.removeAttribute("tabindex");
      delete box.dataset.scrollFocus;
    }
  }
}
document.addEventListener("DOMContentLoaded", markScrollableTables);
document.addEventListener("htmx:afterSettle", markScrollableTables);
window.addEventListener("resize", markScrollableTables);
// A <details> opened shows tables that had no width while it was shut ("toggle" does not bubble).
document.addEventListener("toggle", markScrollableTables, true);
// ==== end of Layout ====

// <section data-follows="SELECT_ID"> of <details id="guide-VALUE">: the new-import page's column
// guide opens the chosen kind's columns, on load and when "What to import" changes (all stay
// openable by hand).
function followSelect(select) {
  for (const guide of document.querySelectorAll(`[data-follows="${CSS.escape(select.id)}"]`)) {
    for (const details of guide.querySelectorAll("details[id^='guide-']")) {
      details.open = details.id === `guide-${select.value}`;
    }
  }
}
document.addEventListener("change", (event) => {
  if (event.target instanceof HTMLSelectElement && event.target.id) {
    followSelect(event.target);
  }
});
document.addEventListener("DOMContentLoaded", () => {
  for (const guide of document.querySelectorAll("[data-follows]")) {
    const select = document.getElementById(guide.dataset.follows);
    if (select instanceof HTMLSelectElement) {
      followSelect(select);
    }
  }
});
