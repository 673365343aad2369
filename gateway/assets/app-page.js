// Script of the appinhouse download page /app/{app} (served as /static/app-page.js): an iPad
// that presents itself as a Mac reloads the page once with a `touch=1` cookie, so the server
// offers it the iOS builds.
if (navigator.maxTouchPoints > 1 && /Macintosh/.test(navigator.userAgent) &&
    document.cookie.indexOf('touch=1') < 0) {
  document.cookie = 'touch=1; path=/';
  location.reload();
}
