/*
 * points.js: events as points (needs core.js).
 *
 *   L.ConflictMap.Points   events as circles on a canvas (a subclass of L.Canvas, the
 *                          Leaflet canvas renderer, by way of L.ConflictMap.DataCanvas),
 *                          popups from per-point records; a click lists every event under
 *                          it, a count badge marks a point that stands for several
 *   L.ConflictMap.decode   the events payload as typed arrays; the records and popups
 *                          below read it, and so does clusters.js
 */
(function (L) {
  'use strict';
  if (!L) { return; }
  var CM = L.ConflictMap;
  if (!CM) { throw new Error('conflictmap points.js: core.js must be loaded before it'); }
  if (CM.Points) { return; }
  var util = CM.util, el = util.el, isoDay = util.isoDay, fmtCount = util.fmtCount;
  var cutAt = util.cutAt, shortCount = util.shortCount;

  // ---------------------------------------------------------------------------------------
  // Events payload, format 2 (see dashboard/layers/events.py): integer columns travel as
  // base64 of little-endian unsigned ints, w bytes each, plus an offset o (with d: running
  // differences from d); groups hold the values many events share. CM.decode turns it
  // into typed arrays of the plain shape (d.lat, d.type, d.rec.day, ...) that the drawing
  // and the popups read; a value already in that shape is returned as it is.
  function unpack(spec, n) {
    var out = new Int32Array(n), w = spec.w, o = spec.o, bin = w ? atob(spec.b) : '';
    var i, k, v, p;
    for (i = 0, p = 0; i < n; i++, p += w) {
      for (v = 0, k = w - 1; k >= 0; k--) { v = v * 256 + bin.charCodeAt(p + k); }
      out[i] = o + v;
    }
    if (spec.d !== undefined) {
      for (i = 0, v = spec.d; i < n; i++) { v += out[i]; out[i] = v; }
    }
    return out;
  }

  CM.decode = function (data) {
    if (!data.cols) { return data; }
    var n = data.n, cols = {}, names, g, code, table, out, i, j, k;
    names = Object.keys(data.cols);
    for (j = 0; j < names.length; j++) { cols[names[j]] = unpack(data.cols[names[j]], n); }
    for (k = 0; k < data.groups.length; k++) {
      g = data.groups[k];
      code = unpack(g.code, n);
      names = Object.keys(g.cols);
      for (j = 0; j < names.length; j++) {
        table = unpack(g.cols[names[j]], g.k);
        out = new Int32Array(n);
        for (i = 0; i < n; i++) { out[i] = table[code[i]]; }
        cols[names[j]] = out;
      }
    }
    var d = {
      format: data.format, n: n, scale: data.scale, lat: cols.lat, lon: cols.lon,
      type: cols.type, fat: cols.fat, prec: cols.prec, stack: cols.stack, types: data.types,
      colours: data.colours, style: data.style, labels: data.labels, dict: data.dict || {}
    };
    if (cols.day) {  // popup records: days as numbers, NaN where the date is unknown
      var day = new Float64Array(n);
      for (i = 0; i < n; i++) { day[i] = cols.dayKnown && !cols.dayKnown[i] ? NaN : cols.day[i]; }
      d.rec = {
        day: day, tp: cols.tp, sub: cols.sub, src: cols.src, ctrl: cols.ctrl, conf: cols.conf,
        actor1: cols.actor1, actor2: cols.actor2, place: cols.place, idp: cols.idp,
        idn: cols.idn, note: cols.note, hasNote: cols.hasNote
      };
    }
    return d;
  };

  // The event id of point i: "SYR000123" travels as the entry ["SYR", 6] of dict.idp
  // plus the number 123, zero-padded to 6 digits (pad -1: the entry is the whole id).
  CM.eventId = function (d, i) {
    var rec = d.rec || {};
    if (rec.id) { return rec.id[i] || ''; }
    var entry = rec.idp && rec.idp[i] >= 0 && d.dict.idp ? d.dict.idp[rec.idp[i]] : null;
    if (!entry) { return ''; }
    if (entry[1] < 0) { return entry[0]; }
    var digits = String(rec.idn[i]);
    while (digits.length < entry[1]) { digits = '0' + digits; }
    return entry[0] + digits;
  };

  // The popup record of point i: [label, text] rows, all plain strings (a third element
  // marks text that is ours, not the data's: the notice that notes were not sent).
  CM.record = function (d, i) {
    var rec = d.rec || {}, dict = d.dict || {}, labels = d.labels;
    function pick(column, table) {
      if (!rec[column]) { return ''; }
      var code = rec[column][i];
      if (code === null || code === undefined || code < 0) { return ''; }
      return (dict[table] && dict[table][code]) || '';
    }
    var fat = d.fat[i];
    var ctrl = pick('ctrl', 'ctrl'), conf = pick('conf', 'conf');
    var actors = [pick('actor1', 'actor'), pick('actor2', 'actor')].filter(Boolean).join(' \u2013 ');
    var tp = rec.tp ? rec.tp[i] : 0;
    var date = rec.day ? isoDay(rec.day[i]) : '';
    if (date && tp > 1) { date += ' (' + (labels.timePrecision[tp] || '') + ')'; }
    var notes = rec.notes ? (rec.notes[i] || '') : pick('note', 'notes');
    var notSent = !notes && !!(rec.hasNote && rec.hasNote[i] && labels.notesNotSent);
    return {
      title: d.types[d.type[i]] || labels.unknown,
      rows: [
        [labels.date, date],
        [labels.subType, pick('sub', 'sub')],
        [labels.actors, actors],
        [labels.place, pick('place', 'place')],
        [labels.precision, labels.geoPrecision[d.prec[i]] || ''],
        [labels.fatalities, fat < 0 ? labels.unknownFatalities : String(fat)],
        [labels.controller, controllerText(ctrl, conf, labels)],
        [labels.source, pick('src', 'src')],
        notSent ? [labels.notes, labels.notesNotSent, true] : [labels.notes, notes],
        [labels.eventId, CM.eventId(d, i)]
      ]
    };
  };

  // "Unknown" is not a controller: say that no area was mapped there, without a confidence.
  function controllerText(ctrl, conf, labels) {
    if (!ctrl) { return ''; }
    if (ctrl === labels.unknownController) { return labels.outsideAreas; }
    return conf ? ctrl + ' (' + conf + ' confidence)' : ctrl;
  }

  // The rows of a record (CM.record) as a table of text nodes; long values show their
  // beginning and a "Show more" button (CM.longText).
  function recordTable(r, more) {
    var table = el('table');
    for (var k = 0; k < r.rows.length; k++) {
      if (!r.rows[k][1]) { continue; }
      var tr = el('tr');
      tr.appendChild(el('th', null, r.rows[k][0]));
      var td = CM.longText(el('td', r.rows[k][2] ? 'cm-popup-ours' : null), r.rows[k][1],
                           CM.TEXT_FIRST, more);
      if (r.rows[k][2]) { td.style.fontStyle = 'italic'; }
      td.setAttribute('dir', 'auto');
      tr.appendChild(td);
      table.appendChild(tr);
    }
    return table;
  }

  // The popup of point i as DOM nodes: text only, never parsed as HTML.
  CM.popupContent = function (d, i) {
    var r = CM.record(d, i), more = d.labels && d.labels.showMore;
    var root = el('div', 'cm-popup');
    root.appendChild(CM.longText(el('div', 'cm-popup-title'), r.title, CM.TITLE_FIRST, more));
    root.appendChild(recordTable(r, more));
    return root;
  };

  // --- several events under one click -----------------------------------------------------
  // Events on one spot (the same coordinates, or a pixel apart at the zoom shown) are drawn
  // where they are, one on top of the other: a click lists every event under the cursor in
  // one popup, newest first, STACK_PAGE at a time; each line (date, type, actors,
  // fatalities, controller) opens the event's full record below it.
  CM.STACK_PAGE = 20;
  CM.SUMMARY_CHARS = 120;
  var STACK_LABELS = {
    stackTitle: '{n} events here',
    stackOrder: 'newest first; click an event for its details',
    stackMore: 'Show {k} more ({n} not shown yet)'
  };

  function stackLabel(labels, key, values) {
    var text = (labels && labels[key]) || STACK_LABELS[key];
    return text.replace('{n}', fmtCount(values.n)).replace('{k}', fmtCount(values.k));
  }

  // A short form of a data value for a one-line summary (the whole value is in the record).
  function clip(text, max) {
    text = String(text);
    if (text.length <= max) { return text; }
    return text.slice(0, cutAt(text, max - 1)) + '\u2026';
  }

  // Point indices ordered newest first: by date (unknown dates last), then later in the
  // layer first.
  CM.newestFirst = function (d, list) {
    var day = d.rec && d.rec.day;
    function key(i) { return day && !isNaN(day[i]) ? day[i] : -Infinity; }
    return list.slice().sort(function (a, b) {
      var ka = key(a), kb = key(b);
      if (ka !== kb) { return kb > ka ? 1 : -1; }
      return b - a;
    });
  };

  // The one-line summary of point i: [head, actors, facts], all plain text.
  CM.stackSummary = function (d, i) {
    var r = CM.record(d, i), lb = d.labels, values = {}, k;
    for (k = 0; k < r.rows.length; k++) { values[r.rows[k][0]] = r.rows[k][1]; }
    var head = [values[lb.date], r.title].filter(Boolean).join(' \u00b7 ');
    var facts = [lb.fatalities + ': ' + values[lb.fatalities]];
    if (values[lb.controller]) { facts.push(lb.controller + ': ' + values[lb.controller]); }
    return [head, values[lb.actors] || '', facts.join(' \u00b7 ')];
  };

  function stackItem(d, i, changed) {
    var more = d.labels && d.labels.showMore, item = el('li', 'cm-stack-item');
    var button = el('button', 'cm-stack-summary'), details = null, k;
    button.type = 'button';
    button.setAttribute('aria-expanded', 'false');
    var lines = CM.stackSummary(d, i), classes = ['cm-stack-head', 'cm-stack-actors', 'cm-stack-facts'];
    for (k = 0; k < lines.length; k++) {
      if (!lines[k]) { continue; }
      var line = el('span', classes[k], clip(lines[k], CM.SUMMARY_CHARS));
      line.setAttribute('dir', 'auto');
      button.appendChild(line);
    }
    L.DomEvent.on(button, 'click', function (e) {
      L.DomEvent.stop(e);  // a click in a popup is not a click on the map
      if (!details) {  // built when first opened: a long list costs one line per event
        details = el('div', 'cm-stack-details');
        details.appendChild(recordTable(CM.record(d, i), more));
        item.appendChild(details);
      } else {
        details.hidden = !details.hidden;
      }
      button.setAttribute('aria-expanded', details.hidden ? 'false' : 'true');
      changed();
    });
    item.appendChild(button);
    return item;
  }

  // The popup of several points (indices in the order to show them) as DOM nodes;
  // `changed` (optional) is called when an event opens or closes, or a page is added.
  CM.stackPopup = function (d, list, changed) {
    var lb = d.labels, root = el('div', 'cm-popup cm-stack-popup'), shown = 0;
    changed = changed || function () {};
    root.appendChild(el('div', 'cm-popup-title', stackLabel(lb, 'stackTitle', { n: list.length })));
    root.appendChild(el('div', 'cm-stack-order', stackLabel(lb, 'stackOrder', {})));
    var ol = el('ol', 'cm-stack-list');
    root.appendChild(ol);
    var button = el('button', 'cm-more-button cm-stack-more');
    button.type = 'button';
    function page() {
      var end = Math.min(list.length, shown + CM.STACK_PAGE);
      for (; shown < end; shown++) { ol.appendChild(stackItem(d, list[shown], changed)); }
      var left = list.length - shown;
      if (!left) { if (button.parentNode) { root.removeChild(button); } return; }
      button.textContent = stackLabel(lb, 'stackMore', { k: Math.min(left, CM.STACK_PAGE), n: left });
      if (!button.parentNode) { root.appendChild(button); }
    }
    L.DomEvent.on(button, 'click', function (e) { L.DomEvent.stop(e); page(); changed(); });
    page();
    return root;
  };

  // The popup for the points `list` (any order): one event's record, or the list.
  CM.eventsPopup = function (d, list, changed) {
    if (list.length === 1) { return CM.popupContent(d, list[0]); }
    return CM.stackPopup(d, CM.newestFirst(d, list), changed);
  };

  // A popup for the points `list`, at the newest one's place. When an event in the list
  // opens, the popup is laid out again and the map pans to keep it in view, as Leaflet
  // does on opening (popup.update() would re-insert the content: its scroll position and
  // the focused button would be lost). The top padding keeps it clear of the title box.
  CM.openEventsPopup = function (map, d, list, latlng) {
    var popup = L.popup({
      minWidth: 240, maxWidth: 340, maxHeight: 360, className: 'cm-popup-wrap',
      autoPanPaddingTopLeft: L.point(5, 70)
    });
    var relayout = function () {
      if (!popup.isOpen() || !popup._updateLayout) { return; }
      popup._updateLayout();
      popup._updatePosition();
      popup._adjustPan();
    };
    return popup.setLatLng(latlng).setContent(CM.eventsPopup(d, list, relayout)).openOn(map);
  };


  function radiusOf(style, fatalities) {
    if (fatalities === null || fatalities < 0) { return style.rUnknown; }
    return Math.min(style.rMax, style.r0 + style.rPerSqrt * Math.sqrt(fatalities));
  }
  CM.radiusOf = radiusOf;

  // ---------------------------------------------------------------------------------------
  // Points: a Leaflet canvas renderer that draws the compact arrays itself.
  // The canvas has pointer-events: none, so areas underneath keep their hover tooltips;
  // clicks are hit-tested from the map's own click event.
  CM.Points = CM.DataCanvas.extend({
    options: { padding: 0.1, pane: 'cmPoints', tolerance: 3 },

    initialize: function (data, options) {
      L.Canvas.prototype.initialize.call(this, options);
      var t0 = Date.now();
      this._data = data = CM.decode(data);
      var n = data.n, scale = data.scale, i;
      this._n = n;
      this._lat = new Float64Array(n);
      this._lon = new Float64Array(n);
      this._radius = new Float32Array(n);
      for (i = 0; i < n; i++) {
        this._lat[i] = data.lat[i] / scale;
        this._lon[i] = data.lon[i] / scale;
        this._radius[i] = radiusOf(data.style, data.fat[i]);
      }
      // The symbol of each point (type, hollow, dashed, radius: a function of the type,
      // the precision and the fatalities), drawn once and stamped (see _draw).
      var nTypes = data.colours.length, ids = new Map(), key, id, t, hollow, unknown;
      this._symbol = new Int32Array(n);
      this._symbols = [];
      for (i = 0; i < n; i++) {
        t = data.type[i] < 0 ? nTypes - 1 : data.type[i];
        hollow = data.prec[i] !== 1;
        unknown = data.fat[i] < 0;
        key = (t * 4 + (hollow ? 2 : 0) + (unknown ? 1 : 0)) * 4294967296 + data.fat[i] + 1;
        id = ids.get(key);
        if (id === undefined) {
          id = this._symbols.length;
          ids.set(key, id);
          this._symbols.push({
            colour: data.colours[t], hollow: hollow, unknown: unknown, r: this._radius[i]
          });
        }
        this._symbol[i] = id;
      }
      this._sprites = [];
      this._spriteRatio = null;
      this._projZoom = null;
      this._x = new Float64Array(n);
      this._y = new Float64Array(n);
      this._spots(data);
      this._badges = [];
      // firstDrawAt: performance.now() when the first draw ended (benchmarks read it).
      // badges: count badges drawn by the last draw; stacks: points standing for more
      // than one event at the zoom shown.
      this.stats = {
        n: n, drawn: 0, draws: 0, lastDrawMs: 0, decodeMs: Date.now() - t0, firstDrawAt: null,
        badges: 0, stacks: 0
      };
    },

    // Spots: the distinct coordinates (as sent) and how many events each holds (the
    // payload's stack column; counted here for a payload without it). Grouping them by
    // pixel at each zoom (_groupSpots) then costs one pass over the spots, not the events.
    _spots: function (data) {
      var n = data.n, ids = new Map(), spotOf = new Int32Array(n), first = [], count = [];
      var radius = [], wide = 2 * 180 * data.scale + 1, i, key, s;
      for (i = 0; i < n; i++) {
        key = data.lat[i] * wide + data.lon[i];
        s = ids.get(key);
        if (s === undefined) {
          s = first.length;
          ids.set(key, s);
          first.push(i);
          count.push(0);
          radius.push(0);
        }
        spotOf[i] = s;
        count[s] = data.stack ? data.stack[i] : count[s] + 1;
        if (this._radius[i] > radius[s]) { radius[s] = this._radius[i]; }
      }
      this._spotOf = spotOf;
      this._spotFirst = Int32Array.from(first);
      this._spotCount = Int32Array.from(count);
      this._spotRadius = Float32Array.from(radius);
      this._spotGroup = new Int32Array(first.length);
      this._groupLead = new Int32Array(0);
      this._groupCount = new Int32Array(0);
      this._groupRadius = new Float32Array(0);
    },

    _registry: 'layers',
    _canvasClass: 'cm-points-canvas',

    // World pixel coordinates at the current zoom, recomputed only when the zoom changes.
    _project: function () {
      var map = this._map, zoom = map.getZoom(), i, p;
      if (this._projZoom === zoom) { return; }
      for (i = 0; i < this._n; i++) {
        p = map.project([this._lat[i], this._lon[i]], zoom);
        this._x[i] = p.x;
        this._y[i] = p.y;
      }
      this._projZoom = zoom;
      this._groupSpots();
    },

    // Spots less than a pixel apart at this zoom are one group: drawn on the same pixel,
    // they look like one point, so the group gets a count badge. A spot joins the first
    // group whose leading spot is within one pixel (looked up in the 3x3 pixel cells
    // around it), else leads a group of its own.
    _groupSpots: function () {
      var m = this._spotFirst.length, first = this._spotFirst, xs = this._x, ys = this._y;
      var cells = new Map(), lead = [], count = [], radius = [], CELLS = 134217728;
      var s, i, x, y, cx, cy, dx, dy, g, found, j, ddx, ddy, stacks = 0;
      for (s = 0; s < m; s++) {
        i = first[s];
        x = xs[i];
        y = ys[i];
        cx = Math.floor(x);
        cy = Math.floor(y);
        found = -1;
        for (dx = -1; dx <= 1 && found < 0; dx++) {
          for (dy = -1; dy <= 1; dy++) {
            g = cells.get((cx + dx) * CELLS + cy + dy);
            if (g === undefined) { continue; }
            j = first[lead[g]];
            ddx = xs[j] - x;
            ddy = ys[j] - y;
            if (ddx * ddx + ddy * ddy <= 1) { found = g; break; }
          }
        }
        if (found < 0) {
          found = lead.length;
          lead.push(s);
          count.push(0);
          radius.push(0);
          if (!cells.has(cx * CELLS + cy)) { cells.set(cx * CELLS + cy, found); }
        }
        this._spotGroup[s] = found;
        count[found] += this._spotCount[s];
        if (this._spotRadius[s] > radius[found]) { radius[found] = this._spotRadius[s]; }
      }
      for (g = 0; g < count.length; g++) { if (count[g] > 1) { stacks++; } }
      this._groupLead = Int32Array.from(lead);
      this._groupCount = Int32Array.from(count);
      this._groupRadius = Float32Array.from(radius);
      this.stats.stacks = stacks;
    },

    _draw: function () {
      if (!this._map || !this._ctx) { return; }
      var t0 = Date.now();
      this._project();
      var d = this._data, ctx = this._ctx, b = this._bounds;
      var origin = this._map.getPixelOrigin();
      var nTypes = d.colours.length, groups = [], i, x, y, r, hollow, unknown, key;
      // Batch by (type, hollow, unknown): the drawing order.
      for (i = 0; i < nTypes * 4; i++) { groups.push([]); }
      var drawn = 0;
      for (i = 0; i < this._n; i++) {
        x = this._x[i] - origin.x;
        y = this._y[i] - origin.y;
        r = this._radius[i];
        if (x + r < b.min.x || x - r > b.max.x || y + r < b.min.y || y - r > b.max.y) { continue; }
        hollow = d.prec[i] !== 1;
        unknown = d.fat[i] < 0;
        key = (d.type[i] < 0 ? nTypes - 1 : d.type[i]) * 4 + (hollow ? 0 : 2) + (unknown ? 1 : 0);
        groups[key].push(i);
        drawn++;
      }
      // Each point is a stamp (drawImage) of its symbol, drawn once on a small canvas:
      // Chromium rasterises 100k anti-aliased, partly dashed circles drawn as paths on
      // the CPU in seconds (after the script, so stats.lastDrawMs hid it); stamps take a
      // few hundred ms, all inside this function.
      var ratio = L.Browser.retina ? 2 : 1;
      if (this._spriteRatio !== ratio) { this._sprites = []; this._spriteRatio = ratio; }
      // The same symbol again on the same pixel would only add opacity (drawn as one path
      // per batch, such circles were filled once): it is stamped once.
      var seen = new Set(), px, py, spot;
      ctx.save();
      // Hollow (approximate location) first, so precise points stay on top.
      var pass, t, kind, list, k, sp, xs = this._x, ys = this._y, sym = this._symbol;
      for (pass = 0; pass < 2; pass++) {
        for (t = 0; t < nTypes; t++) {
          for (kind = 0; kind < 2; kind++) {
            list = groups[t * 4 + pass * 2 + kind];
            for (k = 0; k < list.length; k++) {
              i = list[k];
              sp = this._sprites[sym[i]] || this._sprite(sym[i], ratio);
              px = Math.round(xs[i] - origin.x - sp.half);
              py = Math.round(ys[i] - origin.y - sp.half);
              spot = (sym[i] * 65536 + (py & 65535)) * 65536 + (px & 65535);
              if (seen.has(spot)) { continue; }
              seen.add(spot);
              ctx.drawImage(sp.canvas, px, py, sp.size, sp.size);
            }
          }
        }
      }
      ctx.restore();
      this._drawBadges(origin, b);
      this.stats.drawn = drawn;
      this.stats.draws += 1;
      this.stats.lastDrawMs = Date.now() - t0;
      if (this.stats.firstDrawAt === null) { this.stats.firstDrawAt = performance.now(); }
      this.fire('cm:drawn', { drawn: drawn });
    },

    // A count badge on each point that stands for more than one event: at the upper left
    // of the group's leading point, which stays where it is (the badge is beside the point,
    // not instead of it; town labels start at the right of their place). Largest counts
    // first; a badge that would cover one already drawn is left out (the click on the point
    // still lists every event there).
    _drawBadges: function (origin, b) {
      var ctx = this._ctx, lead = this._groupLead, count = this._groupCount;
      var first = this._spotFirst, list = [], g, i, x, y, r, k;
      this._badges = [];
      for (g = 0; g < count.length; g++) {
        if (count[g] < 2) { continue; }
        i = first[lead[g]];
        x = this._x[i] - origin.x;
        y = this._y[i] - origin.y;
        r = this._groupRadius[g];
        if (x + r + 30 < b.min.x || x - r > b.max.x || y + r < b.min.y || y - r - 30 > b.max.y) { continue; }
        list.push(g);
      }
      list.sort(function (p, q) { return count[q] - count[p] || p - q; });
      ctx.save();
      ctx.font = '600 10px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      var taken = new Map(), CELL = 32, h = 14, placed = 0;
      function free(rect) {
        var x0 = Math.floor(rect[0] / CELL), x1 = Math.floor((rect[0] + rect[2]) / CELL);
        var y0 = Math.floor(rect[1] / CELL), y1 = Math.floor((rect[1] + rect[3]) / CELL), gx, gy, q, o;
        for (gx = x0; gx <= x1; gx++) {
          for (gy = y0; gy <= y1; gy++) {
            q = taken.get(gx * 1048576 + gy) || [];
            for (o = 0; o < q.length; o++) {
              if (rect[0] < q[o][0] + q[o][2] && q[o][0] < rect[0] + rect[2] &&
                  rect[1] < q[o][1] + q[o][3] && q[o][1] < rect[1] + rect[3]) { return false; }
            }
          }
        }
        for (gx = x0; gx <= x1; gx++) {
          for (gy = y0; gy <= y1; gy++) {
            q = taken.get(gx * 1048576 + gy);
            if (!q) { q = []; taken.set(gx * 1048576 + gy, q); }
            q.push(rect);
          }
        }
        return true;
      }
      for (k = 0; k < list.length; k++) {
        g = list[k];
        i = first[lead[g]];
        r = this._groupRadius[g];
        var text = shortCount(count[g]), w = Math.max(h, Math.ceil(ctx.measureText(text).width) + 7);
        // The badge's corner on the circle's edge at 45 degrees, up and left.
        var cx = this._x[i] - origin.x - 0.71 * r - w / 2 + 3, cy = this._y[i] - origin.y - 0.71 * r - h / 2 + 3;
        var box = [cx - w / 2, cy - h / 2, w, h];
        if (!free(box)) { continue; }
        ctx.beginPath();
        ctx.moveTo(box[0] + h / 2, box[1]);
        ctx.arc(box[0] + w - h / 2, cy, h / 2, -Math.PI / 2, Math.PI / 2);
        ctx.arc(box[0] + h / 2, cy, h / 2, Math.PI / 2, 3 * Math.PI / 2);
        ctx.closePath();
        ctx.fillStyle = '#ffffff';
        ctx.globalAlpha = 0.95;
        ctx.fill();
        ctx.globalAlpha = 1;
        ctx.lineWidth = 1;
        ctx.strokeStyle = '#222222';
        ctx.stroke();
        ctx.fillStyle = '#111111';
        ctx.fillText(text, cx, cy + 0.5);
        this._badges.push({ box: box, group: g });
        placed++;
      }
      ctx.restore();
      this.stats.badges = placed;
    },

    // Symbol `id` on a canvas of its own, at the device pixel ratio of the layer's canvas:
    // hollow (approximate location): faint fill, thick ring in the type's colour; precise:
    // solid fill, thin dark outline; dashed outline: fatalities unknown.
    _sprite: function (id, ratio) {
      var sym = this._symbols[id], s = this._data.style, r = sym.r;
      var size = Math.ceil(2 * r + 4), canvas = document.createElement('canvas');
      canvas.width = canvas.height = Math.ceil(size * ratio);
      var ctx = canvas.getContext('2d');
      ctx.scale(ratio, ratio);
      ctx.beginPath();
      ctx.arc(size / 2, size / 2, r, 0, 2 * Math.PI);
      ctx.setLineDash(sym.unknown ? [2, 2] : []);
      ctx.fillStyle = sym.colour;
      ctx.globalAlpha = sym.hollow ? s.hollowOpacity : s.fillOpacity;
      ctx.fill();
      ctx.globalAlpha = sym.hollow ? 0.95 : 1;
      ctx.lineWidth = sym.hollow ? 2 : (sym.unknown ? 1.2 : 0.7);
      ctx.strokeStyle = sym.hollow ? sym.colour : s.outline;
      ctx.stroke();
      var sprite = { canvas: canvas, size: size, half: size / 2 };
      this._sprites[id] = sprite;
      return sprite;
    },

    // The count badge under a layer point: its group, or -1.
    _badgeAt: function (layerPoint) {
      for (var k = this._badges.length - 1; k >= 0; k--) {
        var box = this._badges[k].box;
        if (layerPoint.x >= box[0] && layerPoint.x <= box[0] + box[2] &&
            layerPoint.y >= box[1] && layerPoint.y <= box[1] + box[3]) { return this._badges[k].group; }
      }
      return -1;
    },

    // Every point under a layer point, in layer order: each centre within its radius
    // (+ tolerance), and all the events of a count badge under it. A linear scan, about
    // 1 ms for 100k points.
    _hits: function (layerPoint) {
      if (this._projZoom === null) { return []; }
      var origin = this._map.getPixelOrigin(), found = [], group = this._badgeAt(layerPoint);
      var px = layerPoint.x + origin.x, py = layerPoint.y + origin.y, tol = this.options.tolerance;
      var i, dx, dy, rr;
      for (i = 0; i < this._n; i++) {
        dx = this._x[i] - px;
        dy = this._y[i] - py;
        rr = this._radius[i] + tol;
        if (dx * dx + dy * dy <= rr * rr || (group >= 0 && this._spotGroup[this._spotOf[i]] === group)) {
          found.push(i);
        }
      }
      return found;
    },

    // Index of the point under a layer point, or -1: the newest of those under it.
    _hit: function (layerPoint) {
      var found = this._hits(layerPoint);
      return found.length ? CM.newestFirst(this._data, found)[0] : -1;
    },

    // How many events a drawn point stands for at the zoom shown (its group's count).
    stackCount: function (i) {
      return this._projZoom === null ? 1 : this._groupCount[this._spotGroup[this._spotOf[i]]];
    },

    _onMapClick: function (e) {
      if (!this._map || !e.originalEvent) { return; }
      var found = this._hits(this._map.mouseEventToLayerPoint(e.originalEvent));
      if (!found.length) { return; }
      var list = CM.newestFirst(this._data, found), i = list[0];
      var latlng = L.latLng(this._lat[i], this._lon[i]);
      // streamlit-folium reads the clicked layer's popup text
      this._popup = CM.openEventsPopup(this._map, this._data, list, latlng);
      this.fire('click', {
        latlng: latlng, index: i, indices: list, eventId: CM.eventId(this._data, i) || null,
        originalEvent: e.originalEvent
      });
    },

    _onMapMouseMove: function (e) {
      if (this._moveThrottled || !this._map || !e.originalEvent) { return; }
      this._moveThrottled = true;
      var self = this;
      setTimeout(function () { self._moveThrottled = false; }, 40);
      var hit = this._hits(this._map.mouseEventToLayerPoint(e.originalEvent)).length > 0;
      var container = this._map.getContainer();
      if (hit) { L.DomUtil.addClass(container, 'cm-pointer'); }
      else { L.DomUtil.removeClass(container, 'cm-pointer'); }
    },

    record: function (i) { return CM.record(this._data, i); },

    popupContent: function (i) { return CM.popupContent(this._data, i); }
  });

  CM.points = function (data, options) { return new CM.Points(data, options); };
}(window.L));
