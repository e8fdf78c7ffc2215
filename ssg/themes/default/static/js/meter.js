/* Article meter: blocking in <head> to decide before first paint. Fails open:
   any error leaves a metered article readable. Reader tiers come from a token
   the account page verified; it is verified again here after paint. */
(() => {
  const d = document, h = d.documentElement, c = JSON.parse(d.currentScript.dataset.meter);
  const { id, messages, auth } = c, access = c.access || 'metered', TOKEN = 'ssg-access:v1', CONSENT = 'ssg-consent:v1';
  // A section's own allowance is counted apart from the site-wide one.
  const KEY = 'ssg-meter:v1' + (c.pool ? ':' + c.pool : ''), store = () => localStorage;
  let state, count, mine, limit, tier, wall, token, expired;
  // Months start in the site's timezone, not the reader's.
  const ym = c.period == 'month' &&
    new Intl.DateTimeFormat('en', { timeZone: c.timezone, year: 'numeric', month: 'numeric' });
  const live = (t, now) => ym ? ym.format(t) == ym.format(now) : now - t < c.windowDays * 864e5;
  const open = () => state == 'counted' || state == 'revisit';
  const part = (s) => atob(s.replace(/-/g, '+').replace(/_/g, '/'));

  // Reads in the window (id -> time). Throws if storage is blocked.
  function load(now) {
    const reads = new Map();
    reads.raw = store().getItem(KEY);
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
    if (v != reads.raw) store().setItem(KEY, v);
  }

  // The reader's tier from the stored token's claims (header and claims only:
  // the signature is the third part): its key still in this build (a rebuild
  // without a key revokes its tokens), issuer, audience, expiry.
  function reader(now) {
    tier = 'anonymous', expired = token = null;
    try {
      token = auth && store().getItem(TOKEN);
      const [a, b] = token.split('.', 2).map(part).map(JSON.parse);
      if (a.alg == 'ES256' && auth.keys.some((k) => k.kid == a.kid) && b.iss == auth.iss && b.aud == auth.aud) {
        if (b.exp * 1e3 > now) tier = b.tier == 'subscriber' || b.tier == 'registered' ? b.tier : tier;
        else expired = 1;
      }
    } catch (e) {}
  }

  function exempt() {
    try {
      const host = new URL(d.referrer).hostname;
      return c.exempt.some((e) => host == e || host.endsWith('.' + e));
    } catch (e) {}
  }

  function decide(record, keepOpen) {
    const now = Date.now();
    reader(now);
    state = mine = wall = count = null;
    limit = tier == 'registered' ? c.registeredLimit : c.limit;
    if (tier == 'subscriber' || tier == 'registered' && access != 'subscribers') {
      state = access == 'metered' && tier == 'registered' ? null : 'entitled';
    } else if (access != 'metered') {
      state = 'paywalled', wall = access == 'registered' ? 'register' : access;
    }
    if (!state) try {
      if (c.consent && store().getItem(CONSENT) != '1') state = 'awaiting-consent';
      else if (exempt() && !load(now).has(id)) state = 'exempt';
      else {
        const r = load(now), seen = limit && r.has(id);
        if (!seen && r.size < limit) r.set(id, mine = now);
        state = seen ? 'revisit' : mine ? 'counted' : keepOpen ? 'revisit' : 'paywalled';
        count = r.size;
        if (record) save(r);
      }
    } catch (e) {
      // No usable storage: open, unless limit 0 (which needs no count).
      if (!state || mine) state = limit ? 'unavailable' : 'paywalled', count = null;
    }
    if (state == 'paywalled') wall = expired ? 'expired' : wall || 'paywall';
    h.classList.toggle('meter-paywalled', !!wall);
    for (const w of ['paywall', 'register', 'subscribers', 'expired']) h.classList.toggle('meter-wall-' + w, wall == w);
  }

  function show() {
    const n = count == null ? null : Math.max(0, limit - count);
    const b = d.querySelector('[data-meter-banner]');
    if (b) b.textContent = open() ? messages[state == 'counted' && !n ? 'last'
      : n == 1 ? 'remaining_one' : 'remaining_other'].replace('{n}', n) : '';
    // Next tick: DOMContentLoaded listeners hear it too. The detail is what
    // the banner was written from, whatever happens before the tick.
    const detail = { count, limit, remaining: n, state, tier, access };
    setTimeout(() => d.dispatchEvent(new CustomEvent('ssg:meter', { detail })));
  }

  // Decided again after a change (the banner waits for the body as usual).
  function again(keepOpen) {
    decide(!d.prerendering, keepOpen);
    d.readyState == 'loading' || d.prerendering || show();
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

  // The token's signature, checked with WebCrypto against this build's keys:
  // a forged or unreadable token is dropped and the page decided again. A
  // token that merely does not count here is kept: its kid may be in a newer
  // build (a cached page is older), its audience another site on this origin,
  // and an expired one makes the walls say so.
  async function verify() {
    if (!token) return;
    let ok, k;
    try {
      const [a, b, s, x] = token.split('.'), head = JSON.parse(part(a));
      if (!(k = auth.keys.find((k) => k.kid == head.kid)) && head.alg == 'ES256') return;
      const key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: k.x, y: k.y },
        { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
      ok = head.alg == 'ES256' && x == null && await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key,
        Uint8Array.from(part(s), (ch) => ch.charCodeAt(0)), new TextEncoder().encode(a + '.' + b));
    } catch (e) {}
    if (!ok) {
      try { store().removeItem(TOKEN) } catch (e) {}
      if (tier != 'anonymous' || wall == 'expired') again();
    }
  }

  // Consent from a consent manager: count this page now, later pages before
  // paint; withdrawn, everything the meter stored goes.
  d.addEventListener('ssg:consent', (e) => {
    try {
      if (e.detail && e.detail.granted) {
        store().setItem(CONSENT, '1');
        if (state == 'awaiting-consent') again(1);
      } else {
        for (const k of Object.keys(store())) if (k == CONSENT || k.startsWith('ssg-meter:')) store().removeItem(k);
        if (c.consent) again();
      }
    } catch (e) {}
  });

  decide(!d.prerendering); // prerendered: count once shown
  d.addEventListener('prerenderingchange', () => { decide(1); d.readyState == 'loading' || show(); });
  addEventListener('DOMContentLoaded', () => d.prerendering || show());
  addEventListener('storage', sync);
  addEventListener('pageshow', (e) => e.persisted && sync());
  verify();
})();
