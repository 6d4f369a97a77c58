/* The top bar's menu on narrow screens: the "Menu" button shows and hides the links and the user box.
 * Loaded in <head>, not deferred: it marks <html class="js"> before the first paint, so the CSS folds
 * the menu only when this script runs. Without it the menu simply stays open. */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function init() {
    var button = document.querySelector(".nav-toggle[aria-controls]");
    var menu = button ? document.getElementById(button.getAttribute("aria-controls")) : null;
    if (!button || !menu) return;

    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-open", open);
    }

    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    // Escape folds the menu again and gives the focus back to its button.
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
