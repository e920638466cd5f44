// Live updates of an incident page: follows /incidents/N/live (Server-Sent
// Events) and applies what it sends. The page is complete without this
// script; the server renders and escapes every piece of HTML it sends.
(function () {
  "use strict";

  var timeline = document.getElementById("timeline");
  if (!timeline || typeof window.EventSource !== "function") {
    return;
  }
  var number = timeline.dataset.incident;
  var seq = timeline.dataset.seq || "0";
  var indicator = document.getElementById("live-indicator");
  var announce = document.getElementById("live-announce");

  function show(state, text) {
    if (!indicator) {
      return;
    }
    indicator.hidden = false;
    indicator.className = "live-indicator " + state;
    indicator.textContent = text;
  }

  // fragment parses server-rendered HTML into nodes without running
  // anything: a <template>'s content is inert.
  function fragment(html) {
    var t = document.createElement("template");
    t.innerHTML = html;
    return t.content;
  }

  function parse(ev) {
    try {
      return JSON.parse(ev.data);
    } catch (e) {
      return null;
    }
  }

  function say(text) {
    if (!announce || !text) {
      return;
    }
    // A change of text is what a screen reader announces.
    announce.textContent = "";
    window.setTimeout(function () {
      announce.textContent = text;
    }, 50);
  }

  function applyTimeline(d) {
    if (d.from_minute >= 0) {
      var before = {};
      timeline.querySelectorAll("li.entry[data-seq]").forEach(function (li) {
        before[li.dataset.seq] = true;
      });
      var kids = Array.prototype.slice.call(timeline.children);
      kids.forEach(function (li) {
        if (d.from_minute === 0 || Number(li.dataset.minute) >= d.from_minute) {
          li.remove();
        }
      });
      timeline.appendChild(fragment(d.html));
      var added = [];
      timeline.querySelectorAll("li.entry[data-seq]").forEach(function (li) {
        if (!before[li.dataset.seq]) {
          var text = li.querySelector(".text");
          var actor = li.querySelector(".actor");
          added.push((actor ? actor.textContent + ": " : "") + (text ? text.textContent : ""));
        }
      });
      if (added.length === 1) {
        say("New timeline entry. " + added[0]);
      } else if (added.length > 1) {
        say(added.length + " new timeline entries. The latest: " + added[added.length - 1]);
      }
      var empty = document.getElementById("timeline-empty");
      if (empty && timeline.children.length > 0) {
        empty.remove();
      }
    }
    setSeq(d.seq);
  }

  function setSeq(s) {
    if (typeof s === "number" && s > 0) {
      seq = String(s);
      timeline.dataset.seq = seq;
    }
  }

  function applySection(id) {
    return function (ev) {
      var d = parse(ev);
      var section = document.getElementById(id);
      if (!d || !section) {
        return;
      }
      section.replaceChildren(fragment(d.html));
      setSeq(d.seq);
    };
  }

  // EventSource reconnects by itself after a dropped connection, but gives
  // up for good when the server refuses the stream (too many open for this
  // session or this server, a restart): then the page asks again itself, a
  // few times, further apart each time.
  var retries = 0;
  var maxRetries = 5;
  var finished = false;
  var source = null;

  function finish(text) {
    finished = true;
    source.close();
    show("off", text);
  }

  function connect() {
    source = new EventSource("/incidents/" + encodeURIComponent(number) + "/live?since=" + encodeURIComponent(seq));
    source.addEventListener("open", function () {
      retries = 0;
      show("on", "Live: new entries appear as they are recorded.");
    });
    source.addEventListener("error", function () {
      if (finished) {
        return;
      }
      if (source.readyState !== EventSource.CLOSED) {
        show("reconnecting", "Reconnecting…");
        return;
      }
      if (retries >= maxRetries) {
        show("off", "Live updates stopped. Reload the page to see the latest.");
        return;
      }
      var wait = Math.min(60, 5 * Math.pow(2, retries));
      retries++;
      show("reconnecting", "Live updates paused; trying again in " + wait + " s.");
      window.setTimeout(connect, wait * 1000);
    });
    source.addEventListener("timeline", function (ev) {
      var d = parse(ev);
      if (d) {
        applyTimeline(d);
      }
    });
    source.addEventListener("summary", applySection("summary"));
    source.addEventListener("actions", applySection("actions"));
    source.addEventListener("updates", applySection("updates"));
    source.addEventListener("closed", function () {
      finish("This incident is closed; its timeline is final.");
    });
    source.addEventListener("gone", function () {
      finish("Live updates stopped: you can no longer see this incident. Reload the page.");
    });
  }

  connect();
})();
