// After htmx swaps the pick panel, the scanner's next keystrokes go to the scan field again.
document.addEventListener("htmx:afterSettle", function () {
  var field = document.querySelector("[data-scan]");
  if (field && document.activeElement !== field) field.focus();
});
