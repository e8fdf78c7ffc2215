/* Preview only: `ssg serve` adds this script to the HTML it serves; `ssg build` never does.
   1. Live reload: listens to the server's build events and reloads this page when a rebuild
      changed it, when the build errors changed (the overlay appears or goes), or when the
      server restarted. The event is {"server", "generation", "changed": [URL paths], "errors"}.
   2. Meter helper: ?meter=reset forgets the reader's counted articles; ?meter=N replaces them
      with N fake reads made now; ?meter=subscriber or ?meter=registered signs the reader in with a
      token of the preview's own key (never in `ssg build` output), ?meter=anonymous signs them out.
      Then the page reloads without the query. */
(() => {
  const KEY = 'ssg-meter:v1', TOKEN = 'ssg-access:v1';
  const me = document.currentScript.dataset;
  const params = new URLSearchParams(location.search);
  const meter = params.get('meter');
  if (meter !== null) {
    try {
      if (meter === 'reset') {
        localStorage.removeItem(KEY);
      } else if (/^\d{1,4}$/.test(meter)) {
        const now = Date.now(), r = [];
        for (let i = 1; i <= Number(meter); i++) r.push(['/__ssg__/meter/' + i + '/', now]);
        localStorage.setItem(KEY, JSON.stringify({ v: 1, r }));
      } else if (meter === 'anonymous') {
        localStorage.removeItem(TOKEN);
      } else if ((meter === 'subscriber' || meter === 'registered') && me.readers) {
        localStorage.setItem(TOKEN, JSON.parse(me.readers)[meter]);
      } else if (meter === 'subscriber' || meter === 'registered') {
        console.warn('ssg preview: readers sign in only when site.yaml has access: and a meter');
      } else {
        console.warn('ssg preview: use ?meter=reset, ?meter=N, ?meter=subscriber, ?meter=registered or ?meter=anonymous, not ?meter=' + meter);
      }
    } catch (e) {
      console.warn('ssg preview: cannot change the meter:', e);
    }
    params.delete('meter');
    const query = params.toString();
    location.replace(location.pathname + (query ? '?' + query : '') + location.hash);
    return;
  }

  let path = location.pathname;
  try { path = decodeURIComponent(path); } catch (e) {}
  // The page says its URL: after a template edit the server builds the open pages first.
  const events = new EventSource('/__ssg__/events?since=' + encodeURIComponent(me.generation)
                                 + '&page=' + encodeURIComponent(me.page || path));
  events.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.server !== me.server || m.errors !== me.errors
        || m.changed.includes(path) || m.changed.includes(me.page)) {
      events.close();
      location.reload();
    }
  };
})();
