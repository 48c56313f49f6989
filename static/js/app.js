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
