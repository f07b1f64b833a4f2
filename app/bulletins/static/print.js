// The bulletin's 打印 / 另存为 PDF button (no inline script: the CSP forbids it).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
