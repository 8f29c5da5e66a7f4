// Upload Leads: the whole box takes a dropped file, and the chosen file's name is shown.
// Progressive enhancement only: without this script the native file input still works (and takes drops).
(function () {
  "use strict";

  function setUp(zone) {
    var input = zone.querySelector('input[type="file"]');
    var shown = zone.querySelector("[data-file-name]");
    if (!input) return;

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
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
