// Applies the saved theme before the first paint; app.js owns the toggle.
(function () {
  try {
    var t = localStorage.getItem("lumina-theme");
    if (t === "dark" || t === "light") document.documentElement.setAttribute("data-theme", t);
  } catch (e) { /* storage disabled: follow prefers-color-scheme */ }
})();
