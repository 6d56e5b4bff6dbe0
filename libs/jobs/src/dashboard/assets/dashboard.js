// nestjs-tenant-jobs dashboard: a little progressive behaviour. Every page works without it.
// Served from the package as a file (the page's Content-Security-Policy allows no inline script).

// Times are rendered in UTC by the server; show them in the viewer's zone, keeping UTC in the tooltip.
for (const el of document.querySelectorAll('time[datetime]')) {
  const date = new Date(el.getAttribute('datetime'));
  if (!Number.isNaN(date.getTime())) {
    el.title = el.textContent;
    el.textContent = date.toLocaleString();
  }
}

// Forms with data-confirm ask before they post (cancel, discard, run now).
for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

// Pages with data-refresh reload themselves while the header's checkbox is ticked (remembered).
const seconds = Number(document.body.dataset.refresh);
const toggle = document.getElementById('auto-refresh');
if (seconds > 0 && toggle) {
  const key = 'jobs-dashboard:auto-refresh';
  toggle.checked = localStorage.getItem(key) === 'on';
  let timer;
  const arm = () => {
    clearTimeout(timer);
    if (toggle.checked) timer = setTimeout(() => location.reload(), seconds * 1000);
  };
  toggle.addEventListener('change', () => {
    localStorage.setItem(key, toggle.checked ? 'on' : 'off');
    arm();
  });
  arm();
}
