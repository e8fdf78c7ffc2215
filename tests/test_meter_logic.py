"""Quick checks of meter.js's logic in Node, with a fake page and storage: no browser, a second per test.

The browser tests (test_meter_browser.py) are the proof; these pin edge cases cheaply.
"""
from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ssg.meter import minified

METER_JS = Path(__file__).resolve().parents[1] / "ssg/themes/default/static/js/meter.js"
KEY = "ssg-meter:v1"
DAY = 86_400_000
T0 = 1_780_000_000_000          # 2026-05-28

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")

# A page is meter.js run in a fresh vm context whose globals fake just what the script touches.
# Pages of one `reader` share one storage, like tabs of one browser profile.
DRIVER = r"""
const vm = require('vm');
const fs = require('fs');
const [file, body] = process.argv.slice(-2);
const source = fs.readFileSync(file, 'utf8');
const KEY = 'ssg-meter:v1';

function reader(options = {}) {
  const store = new Map();
  const pages = [];
  let writes = 0;
  const clock = {now: 0};              // one clock for all tabs, as in a real browser
  const storage = {
    getItem: (k) => { if (options.blocked) throw new Error('blocked'); return store.has(k) ? store.get(k) : null; },
    setItem: (k, v) => {
      if (options.blocked || options.full) throw new Error('blocked');
      const old = store.has(k) ? store.get(k) : null;
      store.set(k, String(v));
      writes++;
      // Like a browser: the other tabs hear of it later, not inside this call.
      for (const p of pages) if (p !== writer) queue.push([p, {key: k, oldValue: old, newValue: String(v)}]);
    },
  };
  const queue = [];
  let writer = null;
  // Deliver storage events until the tabs stop writing; tabs that keep undoing each other never do.
  function settle() {
    for (let n = 0; queue.length; n++) {
      if (n > 100) throw new Error('tabs keep rewriting each other');
      const [p, e] = queue.shift();
      p.fire('storage', e);
    }
  }
  return {
    store,
    settle,
    writes: () => writes,
    raw: () => store.has(KEY) ? store.get(KEY) : null,
    set: (v) => store.set(KEY, typeof v == 'string' ? v : JSON.stringify(v)),
    open(settings, now, extra = {}) {
      const listeners = {};
      const docListeners = {};
      const classes = new Set();
      const banner = {textContent: ''};
      const events = [];
      const timers = [];
      const document = {
        currentScript: {dataset: {meter: JSON.stringify(settings)}},
        // The wall's reason (meter-wall-*) and the event's tier and access are the browser tests' concern.
        documentElement: {classList: {toggle: (c, on) => c != 'meter-paywalled' ? 0 : on ? classes.add(c) : classes.delete(c)}},
        readyState: 'loading',
        prerendering: !!extra.prerendering,
        querySelector: (s) => s == '[data-meter-banner]' ? banner : null,
        addEventListener: (t, f) => (docListeners[t] = docListeners[t] || []).push(f),
        dispatchEvent: (e) => { const {tier, access, ...rest} = e.detail; events.push(rest); return true; },
      };
      clock.now = now;
      const page = {
        classes, banner, events, clock,
        fire(type, event = {}) {
          const previous = writer; writer = page;
          for (const f of listeners[type] || []) f(event);
          writer = previous;
          page.flush();
          if (type != 'storage') settle();
        },
        flush() { while (timers.length) timers.shift()(); },
        ready() { document.readyState = 'interactive'; page.fire('DOMContentLoaded'); },
        activate() {
          document.prerendering = false;
          const previous = writer; writer = page;
          for (const f of docListeners.prerenderingchange || []) f({});
          writer = previous;
          page.flush();
          settle();
        },
        state: () => events.length ? events[events.length - 1].state : null,
      };
      const context = {
        document, localStorage: options.missing ? undefined : storage, JSON, Math, Map, Intl, Array,
        Date: {now: () => clock.now},
        CustomEvent: class { constructor(type, init) { this.type = type; this.detail = init.detail; } },
        setTimeout: (f) => timers.push(f),
        addEventListener: (t, f) => (listeners[t] = listeners[t] || []).push(f),
      };
      pages.push(page);
      writer = page;
      vm.runInNewContext(source, context);
      writer = null;
      if (!extra.prerendering) page.ready();
      settle();
      return page;
    },
  };
}

const settings = (over = {}) => Object.assign({
  id: '/news/a/', limit: 3, windowDays: 30, period: 'rolling', timezone: 'Europe/London',
  messages: {remaining_other: 'You have {n} articles remaining.', remaining_one: 'You have 1 article remaining.',
             last: 'This is your last free article.'}}, over);

let out;
const scenario = new Function('reader', 'settings', 'KEY', body);
out = scenario(reader, settings, KEY);
process.stdout.write(JSON.stringify(out));
"""


def run(body: str):
    """Run a scenario (JavaScript that returns a JSON-able value) against meter.js in Node."""
    result = subprocess.run(["node", "-e", DRIVER, "--", str(METER_JS), body], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_size_budget():
    size = len(gzip.compress(minified("js/meter.js", METER_JS.read_bytes()), 9))  # as served
    print(f"\nmeter.js: {size} bytes gzipped")
    assert size <= 2560


def test_counts_then_paywalls_then_revisits():
    out = run("""
        const r = reader(), seen = [];
        for (const id of ['/a/', '/b/', '/c/', '/d/', '/a/']) {
          const p = r.open(settings({id}), 1000);
          seen.push([p.state(), p.banner.textContent, [...p.classes]]);
        }
        return {seen, raw: r.raw()};""")
    assert out["seen"] == [
        ["counted", "You have 2 articles remaining.", []],
        ["counted", "You have 1 article remaining.", []],
        ["counted", "This is your last free article.", []],
        ["paywalled", "", ["meter-paywalled"]],
        ["revisit", "You have 0 articles remaining.", []],
    ]
    assert json.loads(out["raw"]) == {"v": 1, "r": [["/a/", 1000], ["/b/", 1000], ["/c/", 1000]]}


def test_rolling_expiry_is_exactly_window_days():
    out = run(f"""
        const r = reader();
        r.open(settings({{id: '/a/', limit: 1}}), {T0});
        return [r.open(settings({{id: '/b/', limit: 1}}), {T0} + 30 * {DAY} - 1).state(),
                r.open(settings({{id: '/b/', limit: 1}}), {T0} + 30 * {DAY}).state()];""")
    assert out == ["paywalled", "counted"]


@pytest.mark.parametrize("tz, read, later, same_month", [
    # 2026-01-31 23:30 in New York is 2026-02-01 04:30 UTC.
    ("America/New_York", "2026-02-01T04:30:00Z", "2026-02-01T04:59:00Z", True),
    ("America/New_York", "2026-02-01T04:30:00Z", "2026-02-01T05:00:00Z", False),
    # Tokyo is ahead: 2026-02-28 15:00 UTC is already March there.
    ("Asia/Tokyo", "2026-02-28T14:59:00Z", "2026-02-28T15:00:00Z", False),
    ("Asia/Tokyo", "2026-02-28T15:00:00Z", "2026-03-31T14:59:00Z", True),
    ("UTC", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z", False),
])
def test_month_period_uses_the_site_timezone(tz, read, later, same_month):
    out = run(f"""
        const r = reader(), s = (id) => settings({{id, limit: 1, period: 'month', timezone: '{tz}'}});
        r.open(s('/a/'), Date.parse('{read}'));
        return r.open(s('/b/'), Date.parse('{later}')).state();""")
    assert out == ("paywalled" if same_month else "counted")


def test_month_period_ignores_reads_from_the_same_month_a_year_ago():
    out = run("""
        const r = reader(), s = (id) => settings({id, limit: 1, period: 'month', timezone: 'UTC'});
        r.open(s('/a/'), Date.parse('2025-03-10T00:00:00Z'));
        return r.open(s('/b/'), Date.parse('2026-03-10T00:00:00Z')).state();""")
    assert out == "counted"


def test_future_reads_are_clamped_and_keep_counting():
    out = run(f"""
        const r = reader();
        r.set({{v: 1, r: [['/x/', {T0} + 100 * {DAY}], ['/y/', {T0} + {DAY}], ['/z/', {T0}]]}});
        const p = r.open(settings({{id: '/a/'}}), {T0});
        return [p.state(), JSON.parse(r.raw())];""")
    assert out == ["paywalled", {"v": 1, "r": [["/x/", T0], ["/y/", T0], ["/z/", T0]]}]


@pytest.mark.parametrize("raw", ["", "{", "1", "true", '"s"', "[]", "{}", '{"v":"1"}', '{"v":1}',
                                 '{"v":1,"r":{}}', '{"v":1,"r":[1,2]}', '{"v":0,"r":[["/b/",1]]}'])
def test_corrupt_values_read_as_empty_and_are_rewritten(raw):
    out = run(f"""
        const r = reader();
        r.set({json.dumps(raw)});
        const p = r.open(settings(), 5000);
        return [p.events[0], r.raw()];""")
    assert out[0] == {"count": 1, "limit": 3, "remaining": 2, "state": "counted"}
    assert out[1] == '{"v":1,"r":[["/news/a/",5000]]}'


@pytest.mark.parametrize("failure", ["blocked", "missing", "full"])
def test_unusable_storage_is_unavailable_and_open(failure):
    out = run(f"""
        const r = reader({{{failure}: true}});
        const p = r.open(settings({{limit: 1}}), 5000);
        return [p.events, [...p.classes], p.banner.textContent];""")
    assert out == [[{"count": None, "limit": 1, "remaining": None, "state": "unavailable"}], [], ""]


def test_limit_zero_is_paywalled_even_without_storage():
    out = run("""
        return [reader().open(settings({limit: 0}), 1).state(),
                reader({blocked: true}).open(settings({limit: 0}), 1).state()];""")
    assert out == ["paywalled", "paywalled"]


def test_bounded_to_the_newest_reads():
    out = run(f"""
        const r = reader(), reads = [];
        for (let i = 0; i < 300; i++) reads.push(['/old/' + i + '/', {T0} - i * 1000]);
        r.set({{v: 1, r: reads}});
        r.open(settings({{limit: 3}}), {T0});
        return JSON.parse(r.raw()).r;""")
    assert len(out) == 103
    assert out[-1] == ["/old/0/", T0] and out[0] == ["/old/102/", T0 - 102_000]


def test_other_tab_updates_banner_and_never_locks():
    out = run("""
        const r = reader();
        const a = r.open(settings({id: '/a/'}), 1000);
        r.open(settings({id: '/b/'}), 1001);
        const mid = a.banner.textContent;
        r.open(settings({id: '/c/'}), 1002);
        r.open(settings({id: '/d/'}), 1003);
        return [mid, a.banner.textContent, [...a.classes], a.events.map((e) => e.state + e.count)];""")
    assert out == ["You have 1 article remaining.", "You have 0 articles remaining.", [],
                   ["counted1", "revisit2", "revisit3"]]


def test_overwritten_read_is_merged_back_without_ping_pong():
    out = run("""
        const r = reader();
        const a = r.open(settings({id: '/a/'}), 1000);
        const b = r.open(settings({id: '/b/'}), 1001);
        const before = r.writes();
        // A third tab writes a value it read before /a/ and /b/ were stored.
        r.set({v: 1, r: [['/c/', 999]]});
        a.fire('storage', {key: KEY});
        r.settle();
        return [JSON.parse(r.raw()).r, a.banner.textContent, b.banner.textContent, r.writes() - before];""")
    assert out[0] == [["/c/", 999], ["/a/", 1000], ["/b/", 1001]]
    assert out[1] == out[2] == "You have 0 articles remaining."
    assert out[3] == 2          # each tab put its own read back once, then they agree


def test_expired_read_of_an_open_tab_is_not_merged_back():
    """A tab open across the month boundary must not put last month's read back: the tab that
    pruned it would remove it again, and the two would write forever."""
    out = run("""
        const r = reader(), s = (id) => settings({id, limit: 2, period: 'month', timezone: 'UTC'});
        const a = r.open(s('/a/'), Date.parse('2026-01-31T23:50:00Z'));
        const before = r.writes();
        r.open(s('/b/'), Date.parse('2026-02-01T00:10:00Z'));
        return [JSON.parse(r.raw()).r.map((x) => x[0]), r.writes() - before, a.banner.textContent];""")
    assert out[0] == ["/b/"]
    assert out[1] == 1
    assert out[2] == "You have 1 article remaining."


def test_prerender_records_nothing_until_activation():
    out = run("""
        const r = reader();
        const p = r.open(settings({id: '/a/'}), 1000, {prerendering: true});
        p.ready();
        const before = [r.raw(), p.events.length, p.banner.textContent];
        r.open(settings({id: '/b/'}), 1001);          // a storage event reaches the prerendered page
        const during = r.raw();
        p.clock.now = 2000;             // the reader looks at the page later
        p.activate();
        return [before, during, JSON.parse(r.raw()).r, p.events];""")
    assert out[0] == [None, 0, ""]
    assert json.loads(out[1])["r"] == [["/b/", 1001]]
    assert out[2] == [["/b/", 1001], ["/a/", 2000]]
    assert out[3] == [{"count": 2, "limit": 3, "remaining": 1, "state": "counted"}]


def test_bfcache_restore_is_not_counted_again():
    out = run("""
        const r = reader();
        const a = r.open(settings({id: '/a/'}), 1000);
        a.fire('pageshow', {persisted: true});
        a.fire('pageshow', {persisted: true});
        return [JSON.parse(r.raw()).r, a.events.length];""")
    assert out == [[["/a/", 1000]], 1]
