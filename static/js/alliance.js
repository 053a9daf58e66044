// The platform's few behaviours, here rather than in on…= attributes, which the Content-Security-Policy
// refuses (script-src 'self'). Every page works without this file; it only saves a click.
"use strict";

document.addEventListener("click", (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  // A calendar address: one click selects it for copying.
  const field = target.closest("[data-select-on-click]");
  if (field instanceof HTMLInputElement) field.select();
  // The printable minutes: the browser's print dialog.
  if (target.closest("[data-print]")) window.print();
});
