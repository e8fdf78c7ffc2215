/* The search page: looks the query up in the site's Pagefind index and lists the results.
   Runs in the page itself: no server, and no Pagefind web worker either, because a worker gets the CSP of
   its own response, while the search page's CSP is the one that allows WebAssembly ('wasm-unsafe-eval').
   Results are written with textContent only: nothing from the index becomes markup.
   Contract: <script data-bundle="/pagefind/" data-base="/">; a form [data-search-form] with an input named
   q; an element [data-search-status]; a list [data-search-results]. Fails open: without it the form
   reloads the page with ?q=, which this script reads. */
(function () {
  "use strict";
  var SHOWN = 20; // results listed; the status says how many there are in all
  var script = document.currentScript;
  if (!script) return;
  var bundle = script.getAttribute("data-bundle");
  var base = script.getAttribute("data-base") || "/";
  var language = document.documentElement.lang || undefined;
  var engine = null;

  function load() {
    if (!engine) {
      engine = import(bundle + "pagefind.js").then(function (pagefind) {
        return pagefind.createInstance({ basePath: bundle, baseUrl: base, noWorker: true });
      });
      engine.catch(function () { engine = null; }); // a network hiccup: the next search tries again
    }
    return engine;
  }

  function element(name, className, text) {
    var node = document.createElement(name);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function shownDate(iso) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    if (!parts) return iso;
    var date = new Date(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3]));
    try {
      return date.toLocaleDateString(language, { day: "numeric", month: "long", year: "numeric" });
    } catch (error) {
      return iso;
    }
  }

  function item(data) {
    var meta = data.meta || {};
    var text = element("div", "card-text");
    if (meta.section) text.appendChild(element("p", "kicker", meta.section));
    var title = element("h2", "card-title");
    var link = element("a", "", meta.title || data.url);
    link.href = data.url;
    title.appendChild(link);
    text.appendChild(title);
    var excerpt = data.plain_excerpt || String(data.excerpt || "").replace(/<[^>]*>/g, "");
    if (excerpt) text.appendChild(element("p", "card-summary", excerpt));
    if (meta.date) {
      var when = element("time", "", shownDate(meta.date));
      when.dateTime = meta.date;
      var line = element("p", "card-meta");
      line.appendChild(when);
      text.appendChild(line);
    }
    var card = element("article", "card card-medium");
    card.appendChild(text);
    var entry = element("li");
    entry.appendChild(card);
    return entry;
  }

  function start() {
    var form = document.querySelector("[data-search-form]");
    var status = document.querySelector("[data-search-status]");
    var list = document.querySelector("[data-search-results]");
    if (!form || !status || !list || !bundle) return;
    var input = form.elements.namedItem("q");
    var latest = 0; // only the newest query's answer is shown

    function say(message, items) {
      status.textContent = message;
      list.replaceChildren.apply(list, items || []);
    }

    function run(term) {
      var ticket = ++latest;
      if (!term) {
        say("");
        return;
      }
      status.textContent = "Searching\u2026";
      load()
        .then(function (instance) { return instance.search(term); })
        .then(function (found) {
          var results = (found && found.results) || [];
          return Promise.all(results.slice(0, SHOWN).map(function (r) { return r.data(); }))
            .then(function (data) { return { total: results.length, data: data }; });
        })
        .then(function (answer) {
          if (ticket !== latest) return;
          var quoted = "\u201c" + term + "\u201d";
          var message = answer.total === 0 ? "No results for " + quoted + "."
            : answer.total === 1 ? "1 result for " + quoted + "."
            : answer.total + " results for " + quoted + "."
            + (answer.total > SHOWN ? " Showing the first " + SHOWN + "." : "");
          say(message, answer.data.map(item));
        }, function () {
          if (ticket === latest) say("Search is not available right now. Please try again later.");
        });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var term = input.value.trim();
      var url = new URL(location.href);
      url.searchParams.set("q", term);
      history.replaceState(null, "", url);
      run(term);
    });
    var asked = new URLSearchParams(location.search).get("q");
    if (asked) {
      input.value = asked;
      run(asked.trim());
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
