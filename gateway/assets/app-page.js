// Script of the appinhouse download pages /app/{app} (served as /static/app-page.js).
// 1. An iPad that presents itself as a Mac reloads the page once with a `touch=1` cookie, so the
//    server offers it the iOS builds.
// 2. Build times are shown in the viewer's time zone, with the zone named (the server renders
//    them in the build's offset; a page asked for with ?time_offset= keeps the server's).
if (navigator.maxTouchPoints > 1 && /Macintosh/.test(navigator.userAgent) &&
    document.cookie.indexOf('touch=1') < 0) {
  document.cookie = 'touch=1; path=/';
  location.reload();
}

function twoDigits(number) {
  return (number < 10 ? '0' : '') + number;
}

function localTime(date) {
  return date.getFullYear() + '-' + twoDigits(date.getMonth() + 1) + '-' +
    twoDigits(date.getDate()) + ' ' + twoDigits(date.getHours()) + ':' +
    twoDigits(date.getMinutes()) + ':' + twoDigits(date.getSeconds());
}

function viewerZone(date) {
  var named = '';
  try {
    named = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch (error) {
    named = '';
  }
  if (named) {
    return named;
  }
  var minutes = -date.getTimezoneOffset();
  var sign = minutes < 0 ? '-' : '+';
  minutes = Math.abs(minutes);
  return 'UTC' + sign + twoDigits(Math.floor(minutes / 60)) + ':' + twoDigits(minutes % 60);
}

document.addEventListener('DOMContentLoaded', function () {
  var times = document.querySelectorAll('time[datetime]:not([data-fixed])');
  for (var index = 0; index < times.length; index++) {
    var element = times[index];
    var date = new Date(element.getAttribute('datetime'));
    if (isNaN(date.getTime())) {
      continue;
    }
    var zone = document.createElement('span');
    zone.className = 'zone';
    zone.textContent = viewerZone(date);
    element.textContent = localTime(date) + ' ';
    element.appendChild(zone);
    element.setAttribute('data-local', '1');
  }
});
