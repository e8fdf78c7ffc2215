/* Article meter (issue 3): blocking in <head> to decide before first paint.
   Fails open: any error leaves the article readable. */
(() => {
  const KEY = 'ssg-meter:v1', d = document, c = JSON.parse(d.currentScript.dataset.meter);
  const { id, limit, messages } = c;
  let state, count, mine;
  // Months start in the site's timezone, not the reader's.
  const ym = c.period == 'month' &&
    new Intl.DateTimeFormat('en', { timeZone: c.timezone, year: 'numeric', month: 'numeric' });
  const live = (t, now) => ym ? ym.format(t) == ym.format(now) : now - t < c.windowDays * 864e5;
  const open = () => state == 'counted' || state == 'revisit';

  // Reads in the window (id -> time). Throws if storage is blocked.
  function load(now) {
    const reads = new Map();
    reads.raw = localStorage.getItem(KEY);
    try {
      const v = JSON.parse(reads.raw);
      // Clock set back: a future read counts as now.
      if (v.v == 1) for (let [k, t] of v.r) if (live(t = Math.min(t, now), now)) reads.set(k, t);
    } catch (e) {} // corrupt: start over
    return reads;
  }

  // Only changes are written, so tabs don't echo.
  function save(reads) {
    const v = JSON.stringify({ v: 1, r: [...reads].sort((a, b) => a[1] - b[1]).slice(-100 - limit) });
    if (v != reads.raw) localStorage.setItem(KEY, v);
  }

  function decide(record) {
    const now = Date.now();
    state = mine = null;
    try {
      const r = load(now), seen = limit && r.has(id);
      if (!seen && r.size < limit) r.set(id, mine = now);
      state = seen ? 'revisit' : mine ? 'counted' : 'paywalled';
      count = r.size;
      if (record) save(r);
    } catch (e) {
      // No usable storage: open, unless limit 0 (which needs no count).
      if (!state || mine) state = limit ? 'unavailable' : 'paywalled', count = null;
    }
    d.documentElement.classList.toggle('meter-paywalled', state == 'paywalled');
  }

  function show() {
    const n = count == null ? null : Math.max(0, limit - count);
    const b = d.querySelector('[data-meter-banner]');
    if (b && open()) b.textContent = messages[state == 'counted' && !n ? 'last'
      : n == 1 ? 'remaining_one' : 'remaining_other'].replace('{n}', n);
    // Next tick: DOMContentLoaded listeners hear it too.
    setTimeout(() => d.dispatchEvent(new CustomEvent('ssg:meter',
      { detail: { count, limit, remaining: n, state } })));
  }

  // Other tab or bfcache: never lock the open article; re-add our read if a
  // concurrent write lost it (unless expired: tabs would undo each other).
  function sync() {
    const now = Date.now();
    if (open() && !d.prerendering) try {
      const r = load(now);
      if (mine && live(mine, now) && !r.has(id)) r.set(id, mine);
      save(r);
      if (r.size != count) count = r.size, state = 'revisit', show();
    } catch (e) {}
  }

  decide(!d.prerendering); // prerendered: count once shown
  d.addEventListener('prerenderingchange', () => { decide(1); d.readyState == 'loading' || show(); });
  addEventListener('DOMContentLoaded', () => d.prerendering || show());
  addEventListener('storage', sync);
  addEventListener('pageshow', (e) => e.persisted && sync());
})();
