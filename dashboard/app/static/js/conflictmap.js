/*
 * conflictmap.js: the dashboard's own Leaflet layers (Leaflet 1.9, nothing else).
 *
 * Built by dashboard/layers (Python); each layer gets its data as one JSON value.
 * Every data string reaches the page through textContent / createTextNode: nothing
 * here ever assigns data to innerHTML.
 *
 *   L.ConflictMap.Points   events as circles on a canvas (a subclass of L.Canvas, the
 *                          Leaflet canvas renderer), popups from per-point records; a
 *                          click lists every event under it, a count badge marks a point
 *                          that stands for several
 *   L.ConflictMap.heat     Leaflet.heat in a pane above the SVG areas
 *   L.ConflictMap.Labels   town and country labels for the no-tiles basemap
 *   L.ConflictMap.Legend   legend control + title/date box (a layer, so it can live in a
 *                          FeatureGroup and be switched off in the layer control)
 *   L.ConflictMap.setup    map-wide setup: panes, hatch pattern, no-tiles background
 *   L.ConflictMap.Hexagons events aggregated on the server, as hexagons (own section at the end)
 *
 * The file may be evaluated more than once (streamlit-folium re-evaluates layer scripts);
 * the first definition wins.
 */
(function (L) {
  'use strict';
  if (!L || L.ConflictMap) { return; }

  var CM = L.ConflictMap = { version: 1, layers: [] };
  var DAY_MS = 86400000;
  var SVG_NS = 'http://www.w3.org/2000/svg';

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  // --- long data text ---------------------------------------------------------------------
  // A popup shows the first TEXT_FIRST characters of a value and a "Show more" button that
  // reveals TEXT_GROWTH times as much per click (600, 2,400, 9,600, ...). Chromium lays out
  // an unbreakable run (a 100,000-character note without spaces) in time that grows with
  // the square of its length: 20-30 s for one such note, with the page frozen. So runs of
  // more than BREAK_RUN non-space characters also get a <wbr> break opportunity every
  // BREAK_RUN characters: a fully revealed 100k run then lays out in well under a second.
  // <wbr> is an element with no text: the value's characters (textContent) stay as they
  // were, and copying the text gives the value back.
  CM.TEXT_FIRST = 600;
  CM.TITLE_FIRST = 200;
  CM.TEXT_GROWTH = 4;
  CM.BREAK_RUN = 24;
  var SHOW_MORE = 'Show more ({n} more characters)';

  function fmtCount(n) { return Number(n).toLocaleString('en-US'); }

  // A cut at or before `at` that does not split a surrogate pair.
  function cutAt(text, at) {
    if (at >= text.length) { return text.length; }
    var code = text.charCodeAt(at);
    return (code >= 0xDC00 && code <= 0xDFFF && at > 0) ? at - 1 : at;
  }

  // Append `text` to `node` as text nodes, with <wbr> inside long runs of non-space.
  function appendBreakable(node, text) {
    var run = CM.BREAK_RUN, re = new RegExp('\\S{' + (run + 1) + ',}', 'g'), last = 0, m, i, next;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) { node.appendChild(document.createTextNode(text.slice(last, m.index))); }
      var end = m.index + m[0].length;
      for (i = m.index; i < end; i = next) {
        next = i + run < end ? cutAt(text, i + run) : end;
        if (next <= i) { next = Math.min(end, i + run + 1); }  // a run of lone surrogates
        node.appendChild(document.createTextNode(text.slice(i, next)));
        if (next < end) { node.appendChild(document.createElement('wbr')); }
      }
      last = end;
    }
    if (last < text.length) { node.appendChild(document.createTextNode(text.slice(last))); }
  }
  CM.appendBreakable = appendBreakable;

  // Fill `node` with the data value `text` (as text, never HTML), at most `first`
  // characters of it at once; the rest comes with the "Show more" button. `label` is the
  // button's wording, "{n}" standing for the characters not shown yet. Returns `node`.
  CM.longText = function (node, text, first, label) {
    text = String(text);
    first = first || CM.TEXT_FIRST;
    var shown = cutAt(text, first);
    var body = document.createElement('span');
    body.className = 'cm-text';
    appendBreakable(body, text.slice(0, shown));
    node.appendChild(body);
    if (shown >= text.length) { return node; }
    var more = el('span', 'cm-more');
    more.appendChild(el('span', 'cm-more-dots', '\u2026 '));
    var button = el('button', 'cm-more-button');
    button.type = 'button';
    var relabel = function () {
      button.textContent = (label || SHOW_MORE).replace('{n}', fmtCount(text.length - shown));
    };
    relabel();
    L.DomEvent.on(button, 'click', function (e) {
      L.DomEvent.stop(e);  // a click in a popup is not a click on the map
      var next = cutAt(text, Math.max(shown * CM.TEXT_GROWTH, shown + first));
      appendBreakable(body, text.slice(shown, next));
      shown = next;
      if (shown >= text.length) { node.removeChild(more); } else { relabel(); }
    });
    more.appendChild(button);
    node.appendChild(more);
    return node;
  };

  function isoDay(day) {
    if (day === null || day === undefined || isNaN(day) || day < -1e7) { return ''; }
    return new Date(day * DAY_MS).toISOString().slice(0, 10);
  }

  // Shared with the hexagon section at the end of the file (one copy of each helper).
  CM.util = { el: el, isoDay: isoDay, DAY_MS: DAY_MS, SVG_NS: SVG_NS };

  function ensurePane(map, name, zIndex, passive) {
    var pane = map.getPane(name);
    if (!pane) {
      pane = map.createPane(name);
      pane.style.zIndex = String(zIndex);
      if (passive) { pane.style.pointerEvents = 'none'; }
    }
    return pane;
  }

  // One hatch pattern per document, referenced by CSS (.cm-contested { fill: url(#...) }):
  // CSS wins over the fill attribute Leaflet rewrites on every setStyle.
  CM.ensureHatch = function (colour) {
    if (document.getElementById('cm-hatch')) { return; }
    colour = colour || '#AA4499';
    var svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('width', '0');
    svg.setAttribute('height', '0');
    svg.setAttribute('aria-hidden', 'true');
    svg.style.position = 'absolute';
    var defs = document.createElementNS(SVG_NS, 'defs');
    var pattern = document.createElementNS(SVG_NS, 'pattern');
    pattern.setAttribute('id', 'cm-hatch');
    pattern.setAttribute('patternUnits', 'userSpaceOnUse');
    pattern.setAttribute('width', '8');
    pattern.setAttribute('height', '8');
    pattern.setAttribute('patternTransform', 'rotate(45)');
    var bg = document.createElementNS(SVG_NS, 'rect');
    bg.setAttribute('width', '8');
    bg.setAttribute('height', '8');
    bg.setAttribute('fill', colour);
    bg.setAttribute('fill-opacity', '0.15');
    var line = document.createElementNS(SVG_NS, 'rect');
    line.setAttribute('width', '3');
    line.setAttribute('height', '8');
    line.setAttribute('fill', colour);
    line.setAttribute('fill-opacity', '0.65');
    pattern.appendChild(bg);
    pattern.appendChild(line);
    defs.appendChild(pattern);
    svg.appendChild(defs);
    document.body.appendChild(svg);
  };

  CM.setup = function (map, options) {
    options = options || {};
    // Leaflet's CSS puts every canvas below every SVG inside one pane (z-index 100 vs
    // 200), so canvas layers get panes of their own above the SVG areas (overlayPane 400).
    ensurePane(map, 'cmHeat', 440, true);
    ensurePane(map, 'cmPoints', 450, true);
    ensurePane(map, 'cmLabels', 460, true);
    CM.ensureHatch(options.hatch);
    if (options.noTiles) {
      L.DomUtil.addClass(map.getContainer(), 'cm-notiles');
      map.getContainer().style.background = options.background || '#DCE6EE';
    }
  };


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

  // A count on the map ("3", "1.2k", never more than the true count).
  function shortCount(n) {
    if (n < 1000) { return String(n); }
    if (n < 10000) { return (Math.floor(n / 100) / 10) + 'k'; }
    return Math.floor(n / 1000) + 'k';
  }
  CM.shortCount = shortCount;

  function radiusOf(style, fatalities) {
    if (fatalities === null || fatalities < 0) { return style.rUnknown; }
    return Math.min(style.rMax, style.r0 + style.rPerSqrt * Math.sqrt(fatalities));
  }
  CM.radiusOf = radiusOf;

  // ---------------------------------------------------------------------------------------
  // Points: a Leaflet canvas renderer that draws the compact arrays itself.
  // The canvas has pointer-events: none, so areas underneath keep their hover tooltips;
  // clicks are hit-tested from the map's own click event.
  // What the points and hexagon layers share: a canvas of our own data that takes no
  // pointer events itself (clicks and hovers come from the map, so the layers under it stay
  // reachable), redrawn whole on every update, and listed while on a map in
  // CM[this._registry] (tests and benchmarks read those lists).
  CM.DataCanvas = L.Canvas.extend({
    _registry: 'layers',
    _canvasClass: 'cm-data-canvas',

    getEvents: function () {
      var events = L.Canvas.prototype.getEvents.call(this);
      events.click = this._onMapClick;
      events.mousemove = this._onMapMouseMove;
      return events;
    },

    onAdd: function (map) {
      CM.setup(map);
      this._beforeAdd(map);
      L.Canvas.prototype.onAdd.call(this, map);
      CM[this._registry].push(this);
    },

    _beforeAdd: function () {},

    onRemove: function (map) {
      var list = CM[this._registry], k = list.indexOf(this);
      if (k >= 0) { list.splice(k, 1); }
      if (this._popup) { map.closePopup(this._popup); }
      L.DomUtil.removeClass(map.getContainer(), 'cm-pointer');
      L.Canvas.prototype.onRemove.call(this, map);
    },

    _initContainer: function () {
      var container = this._container = document.createElement('canvas');
      container.style.pointerEvents = 'none';
      container.className = this._canvasClass;
      this._ctx = container.getContext('2d');
    },

    _updatePaths: function () {
      if (this._postponeUpdatePaths) { return; }
      this._redrawBounds = null;
      this._redraw();
    }
  });

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
    // not instead of it; town labels start at the right of their place). Largest counts first; a badge that would cover one already drawn
    // is left out (the click on the point still lists every event there).
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
      function free(box) {
        var x0 = Math.floor(box[0] / CELL), x1 = Math.floor((box[0] + box[2]) / CELL);
        var y0 = Math.floor(box[1] / CELL), y1 = Math.floor((box[1] + box[3]) / CELL), cx, cy, q, o;
        for (cx = x0; cx <= x1; cx++) {
          for (cy = y0; cy <= y1; cy++) {
            q = taken.get(cx * 1048576 + cy) || [];
            for (o = 0; o < q.length; o++) {
              if (box[0] < q[o][0] + q[o][2] && q[o][0] < box[0] + box[2] &&
                  box[1] < q[o][1] + q[o][3] && q[o][1] < box[1] + box[3]) { return false; }
            }
          }
        }
        for (cx = x0; cx <= x1; cx++) {
          for (cy = y0; cy <= y1; cy++) {
            q = taken.get(cx * 1048576 + cy);
            if (!q) { q = []; taken.set(cx * 1048576 + cy, q); }
            q.push(box);
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


  // ---------------------------------------------------------------------------------------
  // Clusters: the same data in a Leaflet.markercluster group of circle markers. A click on
  // a cluster whose events would overlap where they are (all within CLUSTER_LIST_SPAN
  // pixels at the zoom shown), or that cannot split (the deepest zoom), lists its events,
  // newest first, where the plugin would zoom to street level or fan its markers out at
  // made-up places; any other cluster zooms in to split.
  CM.CLUSTER_LIST_SPAN = 6;
  CM.cluster = function (data) {
    data = CM.decode(data);
    var group = L.markerClusterGroup({
      chunkedLoading: true, showCoverageOnHover: false, zoomToBoundsOnClick: false,
      spiderfyOnMaxZoom: false
    });
    var s = data.style, markers = new Array(data.n), i, hollow, unknown, colour, m;
    for (i = 0; i < data.n; i++) {
      hollow = data.prec[i] !== 1;
      unknown = data.fat[i] < 0;
      colour = data.colours[data.type[i]];
      m = L.circleMarker([data.lat[i] / data.scale, data.lon[i] / data.scale], {
        radius: radiusOf(s, data.fat[i]),
        color: hollow ? colour : s.outline,
        weight: hollow ? 2 : (unknown ? 1.2 : 0.7),
        dashArray: unknown ? '2 2' : null,
        fillColor: colour,
        fillOpacity: hollow ? s.hollowOpacity : s.fillOpacity
      });
      m._cmIndex = i;
      markers[i] = m;
    }
    group.addLayers(markers);
    function openList(list) {
      var i = list[0];
      CM.openEventsPopup(group._map, data, list, [data.lat[i] / data.scale, data.lon[i] / data.scale]);
    }
    group.on('click', function (e) {
      var idx = e.layer && e.layer._cmIndex;
      if (idx === undefined || !group._map) { return; }
      openList([idx]);
    });
    group.on('clusterclick', function (e) {
      var cluster = e.layer, map = group._map;
      if (!cluster || !map) { return; }
      var bounds = cluster.getBounds(), zoom = map.getZoom();
      var span = map.project(bounds.getNorthEast(), zoom)
        .distanceTo(map.project(bounds.getSouthWest(), zoom));
      if (span > CM.CLUSTER_LIST_SPAN && zoom < map.getMaxZoom()) { cluster.zoomToBounds(); return; }
      var markers = cluster.getAllChildMarkers(), list = [], k;
      for (k = 0; k < markers.length; k++) { list.push(markers[k]._cmIndex); }
      openList(CM.newestFirst(data, list));
    });
    group.stats = { n: data.n };
    return group;
  };

  // ---------------------------------------------------------------------------------------
  // Heat: Leaflet.heat in its own pane (see setup), from [lat, lon] integer pairs.
  CM.heat = function (data) {
    var n = data.weights.length, latlngs = new Array(n), i;
    for (i = 0; i < n; i++) {
      latlngs[i] = [data.coords[2 * i] / data.scale, data.coords[2 * i + 1] / data.scale, data.weights[i]];
    }
    var options = L.extend({ pane: 'cmHeat' }, data.options);
    var layer = L.heatLayer(latlngs, options);
    var onAdd = layer.onAdd;
    layer.onAdd = function (map) {
      CM.setup(map);
      return onAdd.call(this, map);
    };
    layer.stats = { n: n };
    return layer;
  };

  // ---------------------------------------------------------------------------------------
  // Labels: towns (with Arabic names where given) and countries, shown by zoom, never
  // overlapping: labels are placed in order of priority, each at the first spot beside
  // its point (right or left, level with the dot or nudged up or down while still beside
  // it, then above or below it, centred or to one side) where it covers no label or town
  // dot placed before it; a
  // town label that finds none keeps its dot and loses its text (a country label is left
  // out). Redone whenever the map's view or size changes.
  // rows: [lat, lon, name, nameAr, minZoom, kind, priority]
  var DOT_HALF = 3;  // px around a town's point kept free of other labels
  var LABEL_GAP = 5;  // px between a dot and its text
  var LABEL_NUDGES = [0, -6, 6];  // px up or down; the text stays level with its dot

  CM.Labels = L.Layer.extend({
    options: { pane: 'cmLabels' },

    initialize: function (data, options) {
      L.setOptions(this, options);
      this._rows = (data.rows || []).slice();
      // Stable: rows of equal priority keep their order.
      var order = this._rows.map(function (row, k) { return [row[6] === undefined ? 9 : row[6], k]; });
      order.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
      var rows = this._rows;
      this._rows = order.map(function (o) { return rows[o[1]]; });
      this._markers = [];
    },

    onAdd: function (map) {
      CM.setup(map);
      var k, row, label, text, icon, marker;
      for (k = 0; k < this._rows.length; k++) {
        row = this._rows[k];
        label = el('div', 'cm-label cm-label-' + row[5]);
        if (row[5] !== 'country') { label.appendChild(el('span', 'cm-town-dot')); }
        text = el('span', 'cm-label-text');
        text.appendChild(el('span', 'cm-label-name', row[2]));
        if (row[3]) {
          var ar = el('span', 'cm-label-ar', row[3]);
          ar.setAttribute('lang', 'ar');
          ar.setAttribute('dir', 'rtl');
          text.appendChild(ar);
        }
        label.appendChild(text);
        icon = L.divIcon({ html: label, className: 'cm-label-icon', iconSize: null });
        marker = L.marker([row[0], row[1]], {
          icon: icon, interactive: false, keyboard: false, pane: this.options.pane
        });
        marker._cmMinZoom = row[4];
        marker._cmCountry = row[5] === 'country';
        this._markers.push(marker);
      }
      map.on('zoomend moveend resize viewreset', this._update, this);
      // A text's size changes when the style sheet or a font arrives after this first
      // placement: place again then (once per frame, whatever the number of labels).
      var self = this;
      if (window.ResizeObserver) {
        this._sizes = new ResizeObserver(function () {
          if (self._pending) { return; }
          self._pending = true;
          L.Util.requestAnimFrame(function () {
            self._pending = false;
            if (self._map) { self._update(); }
          });
        });
      }
      this._update();
    },

    onRemove: function (map) {
      map.off('zoomend moveend resize viewreset', this._update, this);
      if (this._sizes) { this._sizes.disconnect(); }
      for (var k = 0; k < this._markers.length; k++) { map.removeLayer(this._markers[k]); }
      this._markers = [];
    },

    _update: function () {
      var map = this._map, zoom = map.getZoom(), k, m, shown = [];
      for (k = 0; k < this._markers.length; k++) {
        m = this._markers[k];
        if (zoom >= m._cmMinZoom) {
          if (!map.hasLayer(m)) {
            map.addLayer(m);
            if (this._sizes) { this._sizes.observe(m.getElement().querySelector('.cm-label-text')); }
          }
          shown.push(m);
        } else if (map.hasLayer(m)) { map.removeLayer(m); }
      }
      this._place(shown);
    },

    // Greedy placement in priority order, in the map container's pixels: each text is
    // measured once, its spots are worked out, not laid out one by one.
    _place: function (markers) {
      var map = this._map, taken = [], k, j, m, p, box, text, spots, w, h, r, dots = [];
      var free = function (rect, skip) {
        for (var i = 0; i < taken.length; i++) {
          var t = taken[i];
          if (t === skip) { continue; }
          if (rect.left < t.right && t.left < rect.right && rect.top < t.bottom && t.top < rect.bottom) {
            return false;
          }
        }
        return true;
      };
      // Every town's dot first: no label may cover a town shown on the map.
      for (k = 0; k < markers.length; k++) {
        m = markers[k];
        dots.push(null);
        if (m._cmCountry) { continue; }
        p = map.latLngToContainerPoint(m.getLatLng());
        dots[k] = { left: p.x - DOT_HALF, right: p.x + DOT_HALF, top: p.y - DOT_HALF, bottom: p.y + DOT_HALF };
        taken.push(dots[k]);
      }
      for (k = 0; k < markers.length; k++) {
        m = markers[k];
        box = m.getElement() && m.getElement().querySelector('.cm-label');
        if (!box) { continue; }
        text = box.querySelector('.cm-label-text');
        box.setAttribute('data-side', 'placed');
        var size = text.getBoundingClientRect();  // fractional, as drawn
        w = size.width;
        h = size.height;
        p = map.latLngToContainerPoint(m.getLatLng());
        if (m._cmCountry) {
          spots = [[-w / 2, -h / 2]];
        } else {
          spots = [];
          for (j = 0; j < LABEL_NUDGES.length; j++) {
            spots.push([LABEL_GAP, -h / 2 + LABEL_NUDGES[j]]);
            spots.push([-LABEL_GAP - w, -h / 2 + LABEL_NUDGES[j]]);
          }
          spots.push([-w / 2, -h - DOT_HALF - 1]);
          spots.push([-w / 2, DOT_HALF + 1]);
          // Above or below, to one side: room between two close neighbours' labels.
          spots.push([-DOT_HALF, -h - DOT_HALF - 1]);
          spots.push([DOT_HALF - w, -h - DOT_HALF - 1]);
          spots.push([-DOT_HALF, DOT_HALF + 1]);
          spots.push([DOT_HALF - w, DOT_HALF + 1]);
        }
        r = null;
        for (j = 0; j < spots.length; j++) {
          var rect = { left: p.x + spots[j][0], top: p.y + spots[j][1] };
          rect.right = rect.left + w;
          rect.bottom = rect.top + h;
          if (free(rect, dots[k])) { r = rect; break; }
        }
        if (r === null) {
          box.setAttribute('data-side', 'none');
        } else {
          text.style.left = spots[j][0] + 'px';
          text.style.top = spots[j][1] + 'px';
          taken.push(r);
        }
      }
    }
  });

  CM.labels = function (data, options) { return new CM.Labels(data, options); };

  // ---------------------------------------------------------------------------------------
  // A basemap the page fetches once from the app's static folder (land, lakes, rivers,
  // borders: a few hundred kB) instead of carrying it in the map's script, which every
  // step of the slider sends again. Drawn in its own pane under the data's, whenever the
  // file arrives. spec: {url, layers: [[kind, style, className], ...]} (features of the
  // file whose properties.kind is that kind).
  var fetchedBasemaps = {};
  CM.RemoteBasemap = L.LayerGroup.extend({
    initialize: function (spec) {
      L.LayerGroup.prototype.initialize.call(this);
      this._spec = spec;
    },

    onAdd: function (map) {
      L.LayerGroup.prototype.onAdd.call(this, map);
      if (this._asked) { return; }
      this._asked = true;
      var self = this, spec = this._spec;
      ensurePane(map, 'cmBasemap', 350, true);
      if (!fetchedBasemaps[spec.url]) {
        fetchedBasemaps[spec.url] = fetch(spec.url).then(function (response) {
          if (!response.ok) { throw new Error('HTTP ' + response.status); }
          return response.json();
        });
      }
      fetchedBasemaps[spec.url].then(function (doc) {
        var features = doc.features || [];
        spec.layers.forEach(function (layer) {
          var kind = layer[0], look = layer[1];
          var mine = features.filter(function (f) { return f.properties && f.properties.kind === kind; });
          if (!mine.length) { return; }
          self.addLayer(L.geoJSON({ type: 'FeatureCollection', features: mine }, {
            style: function () { return look; },
            interactive: false,
            className: layer[2],
            smoothFactor: 1,
            pane: 'cmBasemap'
          }));
        });
        self.fire('cm:basemap');
      }).catch(function (err) {
        delete fetchedBasemaps[spec.url];
        if (window.console) { window.console.warn('conflictmap: no basemap from ' + spec.url + ': ' + err); }
      });
    }
  });

  CM.remoteBasemap = function (spec) { return new CM.RemoteBasemap(spec); };

  // ---------------------------------------------------------------------------------------
  // Legend + title box. spec: {title, subtitle, controllers: [[name, colour, hatched]],
  // types: [[name, colour]], counts: [text], symbols: {...}, headings: {...}}
  CM.Legend = L.Layer.extend({
    initialize: function (spec) { this._spec = spec; },

    onAdd: function (map) {
      var spec = this._spec, self = this;
      var control = L.control({ position: spec.position || 'bottomright' });
      control.onAdd = function () { return self._legendBox(); };
      this._control = control.addTo(map);
      this._title = this._titleBox();
      map.getContainer().appendChild(this._title);
    },

    onRemove: function () {
      if (this._control) { this._control.remove(); this._control = null; }
      if (this._title) { L.DomUtil.remove(this._title); this._title = null; }
    },

    _titleBox: function () {
      var spec = this._spec, box = el('div', 'cm-title');
      box.appendChild(el('div', 'cm-title-main', spec.title));
      for (var k = 0; k < spec.subtitle.length; k++) {
        box.appendChild(el('div', 'cm-title-sub', spec.subtitle[k]));
      }
      return box;
    },

    _legendBox: function () {
      var spec = this._spec, h = spec.headings, k, row, sw;
      var box = el('div', 'leaflet-control cm-legend');
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      if (spec.controllers.length) {
        box.appendChild(el('div', 'cm-legend-heading', h.controllers));
        for (k = 0; k < spec.controllers.length; k++) {
          row = el('div', 'cm-legend-row');
          sw = el('span', 'cm-swatch' + (spec.controllers[k][2] ? ' cm-swatch-hatched' : ''));
          sw.style.backgroundColor = spec.controllers[k][1];
          row.appendChild(sw);
          row.appendChild(el('span', 'cm-legend-label', spec.controllers[k][0]));
          box.appendChild(row);
        }
      }
      if (spec.types.length) {
        box.appendChild(el('div', 'cm-legend-heading', h.types));
        for (k = 0; k < spec.types.length; k++) {
          row = el('div', 'cm-legend-row');
          sw = el('span', 'cm-dot');
          sw.style.backgroundColor = spec.types[k][1];
          row.appendChild(sw);
          row.appendChild(el('span', 'cm-legend-label', spec.types[k][0]));
          box.appendChild(row);
        }
        box.appendChild(el('div', 'cm-legend-heading', h.symbols));
        var sym = spec.symbols;
        for (k = 0; k < sym.sizes.length; k++) {
          row = el('div', 'cm-legend-row');
          sw = el('span', 'cm-dot cm-dot-key');
          var d = Math.round(2 * sym.sizes[k][1]);
          sw.style.width = d + 'px';
          sw.style.height = d + 'px';
          row.appendChild(sw);
          row.appendChild(el('span', 'cm-legend-label', sym.sizes[k][0]));
          box.appendChild(row);
        }
        row = el('div', 'cm-legend-row');
        row.appendChild(el('span', 'cm-dot cm-dot-key cm-dot-unknown'));
        row.appendChild(el('span', 'cm-legend-label', sym.unknown));
        box.appendChild(row);
        row = el('div', 'cm-legend-row');
        row.appendChild(el('span', 'cm-dot cm-dot-key cm-dot-hollow'));
        row.appendChild(el('span', 'cm-legend-label', sym.hollow));
        box.appendChild(row);
      }
      for (k = 0; k < spec.counts.length; k++) {
        box.appendChild(el('div', 'cm-legend-count', spec.counts[k]));
      }
      return box;
    }
  });

  CM.legend = function (spec) { return new CM.Legend(spec); };

  // ---------------------------------------------------------------------------------------
  // The date the map is drawn for. The page adds this layer after every other layer of an
  // update (areas, events, legend), so once it is on the map those layers are of its date.
  // It writes that date on the map's container (data-cm-as-of) and counts the updates
  // (data-cm-updates): the page's Pause button stops at the date read there (what the
  // user sees, which may trail the server by a step or more), and tests wait on it.
  // spec: {asOf: "YYYY-MM-DD"}. Removing the layer leaves the attribute to the next one.
  CM.ViewDate = L.Layer.extend({
    initialize: function (spec) { this._spec = spec; },

    onAdd: function (map) {
      var box = map.getContainer();
      var updates = parseInt(box.getAttribute('data-cm-updates') || '0', 10) || 0;
      box.setAttribute('data-cm-as-of', String(this._spec.asOf || ''));
      box.setAttribute('data-cm-updates', String(updates + 1));
    },

    onRemove: function () {}
  });

  CM.viewDate = function (spec) { return new CM.ViewDate(spec); };
}(window.L));


/* =========================================================================================
 * Hexagons: events aggregated on the server (dashboard/aggregate.py, layers/hexes.py).
 *
 *   L.ConflictMap.Hexagons  a canvas layer (subclass of L.Canvas) drawing one regular
 *                           hexagon per cell of a Web Mercator hexagonal grid, filled by
 *                           count, labelled with the count when there is room; click ->
 *                           popup with the count, fatalities, counts per type, dates
 *   L.ConflictMap.Legend    gains a hexagon section when its spec has `hexagons`
 *
 * Kept in its own function, after the rest of the file, so it can change without touching
 * the layers above; it reads only L.ConflictMap.setup and L.ConflictMap.Legend from them.
 * Data strings (event types) are inserted with textContent only.
 * ========================================================================================= */
(function (L) {
  'use strict';
  var CM = L && L.ConflictMap;
  if (!CM || CM.Hexagons) { return; }

  var EARTH_RADIUS = 6378137;  // the Web Mercator sphere, as dashboard/aggregate.py
  var WORLD_M = 2 * Math.PI * EARTH_RADIUS;
  var SQRT3 = Math.sqrt(3);
  var el = CM.util.el, isoDay = CM.util.isoDay, SVG_NS = CM.util.SVG_NS;

  CM.hexagonLayers = [];

  function fmt(n) { return Number(n).toLocaleString('en-US'); }

  // Labels on the map: short, and never more than the true count (1,999 -> 1.9k).
  function shortCount(n) {
    if (n < 1000) { return String(n); }
    if (n < 10000) { return (Math.floor(n / 100) / 10) + 'k'; }
    if (n < 1e6) { return Math.floor(n / 1000) + 'k'; }
    return (Math.floor(n / 1e5) / 10) + 'M';
  }

  // As format_distance in dashboard/aggregate.py: "850 m", "2.4 km", "12 km".
  function formatDistance(m) {
    if (!(m > 0)) { return '0 m'; }
    var rounded = Number(m.toPrecision(2));
    if (rounded < 1000) { return fmt(rounded) + ' m'; }
    if (rounded < 10000) { return (rounded / 1000).toFixed(1) + ' km'; }
    return fmt(Math.round(m / 1000)) + ' km';
  }
  CM.formatDistance = formatDistance;

  // Grid geometry, the same formulas as dashboard/aggregate.py (hex_centre, hex_axial).
  function hexCentre(q, r, size, flat) {
    var s = size / SQRT3;
    return flat ? [s * 1.5 * q, s * (SQRT3 / 2 * q + SQRT3 * r)]
                : [s * (SQRT3 * q + SQRT3 / 2 * r), s * 1.5 * r];
  }

  function hexAxial(x, y, size, flat) {
    var s = size / SQRT3, fq, fr;
    if (flat) { fq = (2 / 3 * x) / s; fr = (-x / 3 + SQRT3 / 3 * y) / s; }
    else { fq = (SQRT3 / 3 * x - y / 3) / s; fr = (2 / 3 * y) / s; }
    var fs = -fq - fr;
    var rq = Math.floor(fq + 0.5), rr = Math.floor(fr + 0.5), rs = Math.floor(fs + 0.5);
    var dq = Math.abs(rq - fq), dr = Math.abs(rr - fr), ds = Math.abs(rs - fs);
    if (dq > dr && dq > ds) { rq = -rr - rs; }
    else if (dr > ds) { rr = -rq - rs; }
    return [rq, rr];
  }
  CM.hexAxial = hexAxial;

  function ensureHexPane(map) {
    if (!map.getPane('cmHexagons')) {
      var pane = map.createPane('cmHexagons');
      pane.style.zIndex = '445';  // above the SVG areas and the heat map, below points
      pane.style.pointerEvents = 'none';
    }
  }

  // The popup record of hexagon i: title, [label, text] rows, [type, colour, count] rows.
  CM.hexagonRecord = function (d, i, lat) {
    var lb = d.labels, n = d.count[i], unk = d.unk[i], k, rows = [], types = [];
    var noun = function (c) { return c === 1 ? lb.event : lb.events; };
    var fat = fmt(d.fat[i]) + ' ' + lb.known;
    if (unk > 0) { fat += '; ' + lb.unknownFor + ' ' + fmt(unk) + ' ' + noun(unk); }
    rows.push([lb.fatalities, fat]);
    var first = d.first[i], last = d.last[i], dates = lb.undated;
    if (first >= 0) {
      dates = isoDay(d.day0 + first);
      if (last !== first) { dates += ' ' + lb.to + ' ' + isoDay(d.day0 + last); }
    }
    rows.push([lb.dates, dates]);
    var ground = d.size * Math.cos(lat * Math.PI / 180);
    rows.push([lb.hexagon, lb.about + ' ' + formatDistance(ground) + ' ' + lb.across]);
    for (k = 0; k < d.types.length; k++) {
      if (d.tc[k][i] > 0) { types.push([d.types[k], d.colours[k], d.tc[k][i]]); }
    }
    types.sort(function (a, b) { return b[2] - a[2]; });  // stable: legend order on ties
    return { title: fmt(n) + ' ' + noun(n) + ' ' + lb.inHexagon, rows: rows, types: types, n: n };
  };

  CM.hexagonPopup = function (d, i, lat) {
    var rec = CM.hexagonRecord(d, i, lat), k, tr, row, dot, share;
    var root = el('div', 'cm-popup cm-hex-popup');
    root.appendChild(el('div', 'cm-popup-title', rec.title));
    var table = el('table');
    for (k = 0; k < rec.rows.length; k++) {
      tr = el('tr');
      tr.appendChild(el('th', null, rec.rows[k][0]));
      tr.appendChild(el('td', null, rec.rows[k][1]));
      table.appendChild(tr);
    }
    root.appendChild(table);
    if (rec.types.length) {
      var heading = el('div', 'cm-hex-popup-heading', d.labels.byType);
      heading.style.cssText = 'font-weight:600;margin:6px 0 2px;';
      root.appendChild(heading);
      for (k = 0; k < rec.types.length; k++) {
        row = el('div', 'cm-hex-popup-type');
        row.style.cssText = 'display:flex;align-items:center;gap:6px;';
        dot = el('span', 'cm-dot');
        dot.style.backgroundColor = rec.types[k][1];
        row.appendChild(dot);
        var name = CM.longText(el('span'), rec.types[k][0], CM.TITLE_FIRST, d.labels.showMore);
        name.setAttribute('dir', 'auto');
        name.style.cssText = 'flex:1;min-width:0;overflow-wrap:anywhere;';
        row.appendChild(name);
        share = Math.round(100 * rec.types[k][2] / rec.n);
        var count = el('span', null, fmt(rec.types[k][2]) + ' (' + share + ' %)');
        count.style.cssText = 'font-variant-numeric:tabular-nums;white-space:nowrap;';
        row.appendChild(count);
        root.appendChild(row);
      }
    }
    return root;
  };

  CM.Hexagons = CM.DataCanvas.extend({
    options: { padding: 0.1, pane: 'cmHexagons', labelMinRadius: 11 },

    initialize: function (data, options) {
      L.Canvas.prototype.initialize.call(this, options);
      this._data = data;
      var n = data.n, flat = data.orientation === 'flat', i, c, k;
      this._n = n;
      this._flat = flat;
      this._mx = new Float64Array(n);
      this._my = new Float64Array(n);
      this._cls = new Uint8Array(n);
      this._lookup = {};
      for (i = 0; i < n; i++) {
        c = hexCentre(data.q[i], data.r[i], data.size, flat);
        this._mx[i] = c[0];
        this._my[i] = c[1];
        this._lookup[data.q[i] + ',' + data.r[i]] = i;
        for (k = data.classes.length - 1; k > 0 && data.count[i] < data.classes[k][0]; k--) { /* find */ }
        this._cls[i] = k;
      }
      this._px = new Float64Array(n);
      this._py = new Float64Array(n);
      this._projZoom = null;
      this._radiusPx = 0;
      this.stats = { n: n, events: data.events, drawn: 0, labels: 0, draws: 0, radiusPx: 0 };
    },

    _registry: 'hexagonLayers',
    _canvasClass: 'cm-hexagons-canvas',

    _beforeAdd: function (map) { ensureHexPane(map); },

    // World pixels of the centres, and the hexagon radius in pixels, at the current zoom:
    // a Web Mercator hexagon of radius R metres is R * 2^zoom / 156543.034 pixels.
    _project: function () {
      var map = this._map, zoom = map.getZoom(), i;
      if (this._projZoom === zoom) { return; }
      var scale = map.options.crs.scale(zoom);
      for (i = 0; i < this._n; i++) {
        this._px[i] = scale * (0.5 + this._mx[i] / WORLD_M);
        this._py[i] = scale * (0.5 - this._my[i] / WORLD_M);
      }
      this._radiusPx = this._data.size / SQRT3 * scale / WORLD_M;
      this._projZoom = zoom;
    },

    _draw: function () {
      if (!this._map || !this._ctx) { return; }
      this._project();
      var d = this._data, s = d.style, ctx = this._ctx, b = this._bounds;
      var origin = this._map.getPixelOrigin(), r = this._radiusPx;
      var nCls = d.classes.length, groups = [], i, k, j, x, y, list, drawn = 0;
      var start = this._flat ? 0 : Math.PI / 6, dx = [], dy = [];
      for (k = 0; k < 6; k++) {
        dx.push(r * Math.cos(start + k * Math.PI / 3));
        dy.push(r * Math.sin(start + k * Math.PI / 3));
      }
      for (k = 0; k < nCls; k++) { groups.push([]); }
      for (i = 0; i < this._n; i++) {
        x = this._px[i] - origin.x;
        y = this._py[i] - origin.y;
        if (x + r < b.min.x || x - r > b.max.x || y + r < b.min.y || y - r > b.max.y) { continue; }
        groups[this._cls[i]].push(i);
        drawn++;
      }
      ctx.save();
      ctx.lineJoin = 'round';
      for (k = 0; k < nCls; k++) {
        list = groups[k];
        if (!list.length) { continue; }
        ctx.beginPath();
        for (j = 0; j < list.length; j++) {
          x = this._px[list[j]] - origin.x;
          y = this._py[list[j]] - origin.y;
          ctx.moveTo(x + dx[0], y + dy[0]);
          ctx.lineTo(x + dx[1], y + dy[1]);
          ctx.lineTo(x + dx[2], y + dy[2]);
          ctx.lineTo(x + dx[3], y + dy[3]);
          ctx.lineTo(x + dx[4], y + dy[4]);
          ctx.lineTo(x + dx[5], y + dy[5]);
          ctx.closePath();
        }
        ctx.globalAlpha = s.fillOpacity;
        ctx.fillStyle = d.classes[k][1];
        ctx.fill();
        if (r >= 2) {  // below that the edges would be all there is to see
          ctx.globalAlpha = 0.75;
          ctx.lineWidth = s.outlineWidth;
          ctx.strokeStyle = s.outline;
          ctx.stroke();
        }
      }
      var labels = 0;
      if (r >= this.options.labelMinRadius) {
        var size = Math.max(10, Math.min(14, Math.round(r * 0.45)));
        ctx.globalAlpha = 1;
        ctx.font = '600 ' + size + 'px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        for (k = 0; k < nCls; k++) {
          ctx.fillStyle = d.classes[k][2];
          list = groups[k];
          for (j = 0; j < list.length; j++) {
            var text = shortCount(d.count[list[j]]);
            if (ctx.measureText(text).width > 1.5 * r) { continue; }  // inner width is 1.73 r
            ctx.fillText(text, this._px[list[j]] - origin.x, this._py[list[j]] - origin.y);
            labels++;
          }
        }
      }
      ctx.restore();
      this.stats.drawn = drawn;
      this.stats.labels = labels;
      this.stats.radiusPx = r;
      this.stats.draws += 1;
      this.fire('cm:drawn', { drawn: drawn });
    },

    // Index of the hexagon under a layer point, or -1: the grid cell of that point, looked
    // up directly (no scan), so a click anywhere inside a hexagon finds it.
    _hit: function (layerPoint) {
      if (this._projZoom === null) { return -1; }
      var origin = this._map.getPixelOrigin(), scale = this._map.options.crs.scale(this._projZoom);
      var mx = ((layerPoint.x + origin.x) / scale - 0.5) * WORLD_M;
      var my = (0.5 - (layerPoint.y + origin.y) / scale) * WORLD_M;
      var a = hexAxial(mx, my, this._data.size, this._flat);
      var i = this._lookup[a[0] + ',' + a[1]];
      return i === undefined ? -1 : i;
    },

    centreLatLng: function (i) {
      return L.Projection.SphericalMercator.unproject(L.point(this._mx[i], this._my[i]));
    },

    _onMapClick: function (e) {
      if (!this._map || !e.originalEvent) { return; }
      var i = this._hit(this._map.mouseEventToLayerPoint(e.originalEvent));
      if (i < 0) { return; }
      var latlng = this.centreLatLng(i);
      var popup = L.popup({ minWidth: 220, maxWidth: 320, className: 'cm-popup-wrap' })
        .setLatLng(latlng)
        .setContent(this.popupContent(i));
      this._popup = popup;
      popup.openOn(this._map);
      this.fire('click', { latlng: latlng, index: i, originalEvent: e.originalEvent });
    },

    _onMapMouseMove: function (e) {
      if (this._moveThrottled || !this._map || !e.originalEvent) { return; }
      this._moveThrottled = true;
      var self = this;
      setTimeout(function () { self._moveThrottled = false; }, 40);
      var hit = this._hit(this._map.mouseEventToLayerPoint(e.originalEvent)) >= 0;
      var container = this._map.getContainer();
      if (hit) { L.DomUtil.addClass(container, 'cm-pointer'); }
      else { L.DomUtil.removeClass(container, 'cm-pointer'); }
    },

    record: function (i) { return CM.hexagonRecord(this._data, i, this.centreLatLng(i).lat); },

    popupContent: function (i) {
      return CM.hexagonPopup(this._data, i, this.centreLatLng(i).lat);
    }
  });

  CM.hexagons = function (data, options) { return new CM.Hexagons(data, options); };

  // ---------------------------------------------------------------------------------------
  // Legend: spec.hexagons = {heading, classes: [[label, fill]], sentence, hint, outline,
  // fillOpacity} adds the ramp and "N events shown as M hexagons (...)" above the counts.
  function hexSwatch(fill, outline, opacity) {
    var svg = document.createElementNS(SVG_NS, 'svg'), k, pts = [];
    svg.setAttribute('width', '16');
    svg.setAttribute('height', '16');
    svg.setAttribute('viewBox', '-8 -8 16 16');
    svg.setAttribute('aria-hidden', 'true');
    svg.style.flex = 'none';
    for (k = 0; k < 6; k++) {
      var a = Math.PI / 6 + k * Math.PI / 3;
      pts.push((7 * Math.cos(a)).toFixed(2) + ',' + (7 * Math.sin(a)).toFixed(2));
    }
    var hex = document.createElementNS(SVG_NS, 'polygon');
    hex.setAttribute('points', pts.join(' '));
    hex.setAttribute('fill', fill);
    hex.setAttribute('fill-opacity', String(opacity));
    hex.setAttribute('stroke', outline);
    hex.setAttribute('stroke-width', '0.8');
    svg.appendChild(hex);
    return svg;
  }

  var baseLegendBox = CM.Legend.prototype._legendBox;
  CM.Legend.include({
    _legendBox: function () {
      var box = baseLegendBox.call(this), hx = this._spec.hexagons, k, row;
      this._outlineKey(box);
      this._heatKey(box);
      if (!hx) { return box; }
      var part = document.createDocumentFragment();
      part.appendChild(el('div', 'cm-legend-heading', hx.heading));
      for (k = 0; k < hx.classes.length; k++) {
        row = el('div', 'cm-legend-row');
        row.appendChild(hexSwatch(hx.classes[k][1], hx.outline, hx.fillOpacity));
        row.appendChild(el('span', 'cm-legend-label', hx.classes[k][0]));
        part.appendChild(row);
      }
      var sentence = el('div', 'cm-legend-hexagons', hx.sentence);
      sentence.style.cssText = 'margin-top:4px;font-weight:600;';
      part.appendChild(sentence);
      var hint = el('div', 'cm-legend-hint', hx.hint);
      hint.style.color = '#555';
      part.appendChild(hint);
      box.insertBefore(part, box.querySelector('.cm-legend-count'));
      return box;
    },

    // spec.outlines = {heading, rows: [[name, colour]]}: the change map's dashed outlines
    // (who held the ground before), placed right after the fill colours.
    _outlineKey: function (box) {
      var o = this._spec.outlines;
      if (!o) { return; }
      var part = document.createDocumentFragment(), k, row, sw;
      part.appendChild(el('div', 'cm-legend-heading', o.heading));
      for (k = 0; k < o.rows.length; k++) {
        row = el('div', 'cm-legend-row');
        sw = el('span', 'cm-swatch cm-swatch-outline');
        sw.style.borderColor = o.rows[k][1];
        row.appendChild(sw);
        row.appendChild(el('span', 'cm-legend-label', o.rows[k][0]));
        part.appendChild(row);
      }
      var headings = box.querySelectorAll('.cm-legend-heading');
      box.insertBefore(part, headings.length > 1 ? headings[1] : box.querySelector('.cm-legend-count'));
    },

    // spec.heat = {heading, stops: [[percent, colour]], low, high}: the heat map's ramp.
    _heatKey: function (box) {
      var heat = this._spec.heat;
      if (!heat) { return; }
      var part = document.createDocumentFragment(), k, stops = [];
      part.appendChild(el('div', 'cm-legend-heading', heat.heading));
      for (k = 0; k < heat.stops.length; k++) {
        stops.push(heat.stops[k][1] + ' ' + heat.stops[k][0] + '%');
      }
      var ramp = el('div', 'cm-heat-ramp');
      ramp.style.background = 'linear-gradient(to right, ' + stops.join(', ') + ')';
      part.appendChild(ramp);
      var ends = el('div', 'cm-heat-ends');
      ends.appendChild(el('span', '', heat.low));
      ends.appendChild(el('span', '', heat.high));
      part.appendChild(ends);
      box.insertBefore(part, box.querySelector('.cm-legend-count'));
    }
  });
}(window.L));
