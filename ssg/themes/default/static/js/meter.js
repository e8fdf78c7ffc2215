/* Article meter (issue 3): counts the distinct metered articles read in this
   browser; past the limit, meter.css hides the body after the teaser. Runs
   blocking in <head> so the decision lands before first paint. Fails open:
   on any error the article stays readable. */
(() => {
  const KEY = 'ssg-meter:v1', d = document;
  let c, state, count, mine;
  try { c = JSON.parse(d.currentScript.dataset.meter); } catch (e) { return; }
  const id = c.id, limit = c.limit, msg = c.messages || {};
  // "month" resets at 00:00 on the 1st in the site's timezone, not the reader's.
  const ym = c.period == 'month' &&
    new Intl.DateTimeFormat('en', { timeZone: c.timezone, year: 'numeric', month: 'numeric' });
  const live = (t, now) => ym ? ym.format(t) == ym.format(now) : now - t < c.windowDays * 864e5;
  const has = (r) => r.some((x) => x[0] == id);
  const byTime = (a, b) => a[1] - b[1];

  // Reads in the window, oldest first, one per article. Corrupt or foreign
  // values count as empty; a read dated in the future (the clock went back)
  // is clamped to now so it cannot expire early. Throws if storage is blocked.
  function load(now) {
    const raw = localStorage.getItem(KEY), seen = {};
    let r;
    try { r = JSON.parse(raw); } catch (e) {}
    r = (r && r.v === 1 && Array.isArray(r.r) ? r.r : [])
      .filter((x) => Array.isArray(x) && typeof x[0] == 'string' && x[1] >= 0)
      .map((x) => [x[0], Math.min(x[1], now)])
      .sort(byTime)
      .filter((x) => live(x[1], now) && !seen[x[0]] && (seen[x[0]] = 1));
    r.raw = raw;
    return r;
  }

  // Keeps the newest reads only; writes only on change so tabs don't echo.
  function save(r) {
    const v = JSON.stringify({ v: 1, r: r.slice(-100 - limit) });
    if (v != r.raw) localStorage.setItem(KEY, v);
  }

  function decide(record) {
    const now = Date.now();
    state = mine = null;
    try {
      const r = load(now);
      count = r.length;
      if (limit && has(r)) state = 'revisit';
      else if (count < limit) r.push(mine = [id, now]), count++, state = 'counted';
      else state = 'paywalled';
      if (record) save(r);
    } catch (e) {
      // Cannot count: let the reader in (limit 0 needs no count).
      if (!state || mine) state = limit ? 'unavailable' : 'paywalled', count = null;
    }
    const p = state == 'paywalled', h = d.documentElement.classList;
    h.toggle('meter-paywalled', p);
    h.toggle('meter-open', !p);
  }

  function show() {
    const n = count == null ? null : Math.max(0, limit - count);
    const f = (k) => (msg[k] || '').replace(/\{n\}/g, n);
    const b = d.querySelector('[data-meter-banner]');
    // "last" only on the read that spends the last article; revisits use plurals.
    if (b) b.textContent = state == 'counted' && !n ? f('last')
      : state == 'counted' || state == 'revisit' ? f(n == 1 ? 'remaining_one' : 'remaining_other') : '';
    // A tick later, so listeners added at DOMContentLoaded hear it too.
    setTimeout(() => d.dispatchEvent(new CustomEvent('ssg:meter',
      { detail: { count, limit, remaining: n, state } })));
  }

  // Another tab changed the count, or the page is back from the bfcache:
  // update the banner but never lock the open article. If another tab's
  // simultaneous read overwrote ours, merge ours back in.
  function sync() {
    if (state != 'counted' && state != 'revisit') return;
    const now = Date.now();
    try {
      const r = load(now);
      if (mine && live(mine[1], now) && !has(r)) save(r = r.concat([mine]).sort(byTime));
      if (r.length != count) count = r.length, state = 'revisit', show();
    } catch (e) {}
  }

  const ready = (f) => d.readyState == 'loading' ? d.addEventListener('DOMContentLoaded', f) : f();
  // A prerendered page is decided now but counted only when shown.
  const pre = d.prerendering;
  decide(!pre);
  if (pre) d.addEventListener('prerenderingchange', () => { decide(1); ready(show); });
  else ready(show);
  addEventListener('storage', (e) => { if (e.key == KEY || e.key == null) sync(); });
  addEventListener('pageshow', (e) => { if (e.persisted) sync(); });
})();
