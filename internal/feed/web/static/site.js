// Progressive enhancement only: a Copy button beside every element marked
// data-copy (install snippets, a new API key, recovery codes). Without
// JavaScript the text is there to select by hand.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  if (!navigator.clipboard) {
    return;
  }
  document.querySelectorAll("[data-copy]").forEach(function (el) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    var label = el.id ? el.id.replace(/-/g, " ") : "text";
    button.setAttribute("aria-label", "Copy " + label);
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(el.innerText.trim()).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      });
    });
    var pre = el.closest("pre");
    if (pre) {
      pre.appendChild(button);
    } else {
      button.classList.add("inline");
      el.insertAdjacentElement("afterend", button);
    }
  });
});
