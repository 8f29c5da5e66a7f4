// Download Leads and Upload Leads as dialogs on the Summary.
// Progressive enhancement: each section marked data-modal is a plain section of the page without this
// script. With it, the section moves into a native <dialog> (focus kept inside, Escape closes it), opened by
// the buttons that lead to it: links to "#<id>" on this page, elements with data-opens="<id>", and the links
// named in the section's data-openers (the Upload Leads button leads to the Uploads tab without JS). Closing
// gives the focus back to the button that opened it.
(function () {
  "use strict";

  function samePage(link, id) {
    var url = new URL(link.href, window.location.href);
    return url.pathname === window.location.pathname && url.hash === "#" + id;
  }

  function openersOf(section) {
    var id = section.id;
    var found = Array.prototype.slice.call(document.querySelectorAll('[data-opens="' + id + '"]'));
    document.querySelectorAll("a[href]").forEach(function (link) {
      if (!section.contains(link) && samePage(link, id)) found.push(link);
    });
    (section.getAttribute("data-openers") || "").split(/\s+/).forEach(function (href) {
      if (!href) return;
      // Only the page's action buttons: the tab of the same address stays a link to the tab.
      document.querySelectorAll(".pagehead a[href]").forEach(function (link) {
        if (link.getAttribute("href") === href) found.push(link);
      });
    });
    return found;
  }

  function enhance(section) {
    var dialog = document.createElement("dialog");
    dialog.className = "modal";
    dialog.id = section.id + "-dialog";
    var title = section.getAttribute("aria-labelledby");
    if (title) dialog.setAttribute("aria-labelledby", title);
    section.parentNode.insertBefore(dialog, section);
    dialog.appendChild(section);
    section.classList.add("modal-body");

    // Last in the dialog, so that opening it focuses the first field, not Close; CSS puts it top right.
    var close = document.createElement("button");
    close.type = "button";
    close.className = "button quiet modal-close";
    close.textContent = "Close";
    dialog.appendChild(close);
    close.addEventListener("click", function () {
      dialog.close();
    });
    // A click on the backdrop (the dialog itself, outside its content) closes it too.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) dialog.close();
    });

    var opener = null;
    function open(from) {
      opener = from || null;
      if (!dialog.open) dialog.showModal();
    }
    dialog.addEventListener("close", function () {
      if (window.location.hash === "#" + section.id) {
        history.replaceState(null, "", window.location.pathname + window.location.search);
      }
      if (opener && typeof opener.focus === "function") opener.focus();
      opener = null;
    });

    openersOf(section).forEach(function (element) {
      element.setAttribute("aria-haspopup", "dialog");
      element.addEventListener("click", function (event) {
        event.preventDefault();
        open(element);
      });
    });

    if (section.hasAttribute("data-close-on-submit")) {
      // A download leaves the page where it is: close the dialog once the browser has the request.
      section.querySelectorAll("form").forEach(function (form) {
        form.addEventListener("submit", function () {
          window.setTimeout(function () {
            dialog.close();
          }, 0);
        });
      });
    }

    // Sent back here with a message (a bad date, a refused file): open the dialog and show it there.
    if (window.location.hash === "#" + section.id) {
      var messages = document.querySelector("main > .messages");
      var heading = section.querySelector("h2");
      if (messages && heading) heading.insertAdjacentElement("afterend", messages);
      open(null);
    }
  }

  function start() {
    document.querySelectorAll("section[data-modal]").forEach(enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
