// Upload Leads: the whole box takes a dropped file, and the chosen file's name is shown.
// Progressive enhancement only: without this script the native file input still works (and takes drops).
// Boxes that htmx brings in later (the Upload Leads dialog) are set up as they arrive.
(function () {
  "use strict";

  function setUp(zone) {
    var input = zone.querySelector('input[type="file"]');
    var shown = zone.querySelector("[data-file-name]");
    if (!input || zone.hasAttribute("data-ready")) return;
    zone.setAttribute("data-ready", "");

    function showName() {
      // textContent, never innerHTML: the file name is the user's.
      if (shown) shown.textContent = input.files && input.files.length ? input.files[0].name : "";
    }

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "dragend"].forEach(function (type) {
      zone.addEventListener(type, function () {
        zone.classList.remove("dragging");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showName();
      }
    });
    input.addEventListener("change", showName);
  }

  function start() {
    document.querySelectorAll("[data-dropzone]").forEach(setUp);
    // In the Upload Leads dialog htmx answers the form again when a file is refused: set that one up too.
    document.body.addEventListener("htmx:load", function (event) {
      var root = event.detail && event.detail.elt;
      if (!root || !root.querySelectorAll) return;
      if (root.matches && root.matches("[data-dropzone]")) setUp(root);
      root.querySelectorAll("[data-dropzone]").forEach(setUp);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
