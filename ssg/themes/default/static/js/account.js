/* Account page: the sign-in service sends the reader to
   account/#token=JWS&next=URL. The token is kept only once its ES256
   signature verifies with WebCrypto against this build's keys and its claims
   hold; then the reader goes on to `next` (on this site only). On
   account/signout/ the token is removed. Writes text with textContent only. */
(async () => {
  const d = document, c = JSON.parse(d.currentScript.dataset.access), TOKEN = 'ssg-access:v1';
  const fragment = new URLSearchParams(location.hash.slice(1)), query = new URLSearchParams(location.search);
  // First of all: the token leaves the address bar and the history entry.
  if (location.hash) history.replaceState(history.state, '', location.pathname + location.search);
  const status = d.querySelector('[data-access-status]'), m = c.messages;
  const part = (s) => atob(s.replace(/-/g, '+').replace(/_/g, '/'));

  // Where to go next: a path under the site's base path, or an absolute URL
  // under base_url; anything else (another origin) means the home page.
  function target(next) {
    next = next || '';
    if (next.startsWith(c.site)) next = c.base + next.slice(c.site.length);
    return /^\/(?![\/\\])/.test(next) && next.startsWith(c.base) && !/[\\\s]/.test(next) ? next : c.base;
  }

  function say(text) {
    status.textContent = text + ' ';
    const a = d.createElement('a');
    a.href = c.signin;
    a.textContent = m.signin;
    status.append(a);
  }

  async function check(token) {
    const [a, b, s, extra] = token.split('.');
    if (extra != null || !s) return 'invalid';
    const head = JSON.parse(part(a)), claims = JSON.parse(part(b)), now = Date.now() / 1e3;
    const k = c.keys.find((k) => k.kid == head.kid);
    if (head.alg != 'ES256' || !k) return 'invalid';
    const key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: k.x, y: k.y },
      { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key,
      Uint8Array.from(part(s), (ch) => ch.charCodeAt(0)), new TextEncoder().encode(a + '.' + b));
    if (!ok || claims.iss !== c.iss || claims.aud !== c.aud || !['registered', 'subscriber'].includes(claims.tier)
      || typeof claims.exp != 'number' || !(claims.iat <= now + 60)) return 'invalid';
    return claims.exp > now ? 'valid' : 'expired';
  }

  if (c.signout) {
    try { localStorage.removeItem(TOKEN) } catch (e) {}
    return location.replace(target(query.get('next')));
  }
  const token = fragment.get('token');
  if (!token) return say(m.none);
  let verdict;
  try { verdict = await check(token) } catch (e) { verdict = 'invalid' }
  if (verdict == 'valid') try {
    localStorage.setItem(TOKEN, token);
    return location.replace(target(fragment.get('next')));
  } catch (e) { verdict = 'unstored' }
  say(m[verdict]);
})();
