/*
 * core.js: L.ConflictMap, the dashboard's own Leaflet layers (Leaflet 1.9, nothing else),
 * and what its modules share.
 *
 * Built by dashboard/layers (Python); each layer gets its data as one JSON value.
 * Every data string reaches the page through textContent / createTextNode: nothing
 * here ever assigns data to innerHTML.
 *
 * The layers come as plain scripts, each one function that adds to L.ConflictMap, loaded
 * in the order of dashboard/assets.py (MAP_MODULES), this one first:
 *
 *   core.js      the namespace; the helpers every module takes from L.ConflictMap.util
 *                (el, isoDay, ...), one copy of each; long text in popups; map-wide
 *                setup (panes, hatch pattern, no-tiles background); DataCanvas, the
 *                canvas the points and the hexagons are drawn on; L.ConflictMap.ViewDate
 *   points.js    L.ConflictMap.Points: events as circles on a canvas, their popups, the
 *                list of every event under a click, count badges
 *   clusters.js  L.ConflictMap.cluster: the same events in Leaflet.markercluster
 *   heat.js      L.ConflictMap.heat: Leaflet.heat in a pane above the SVG areas
 *   labels.js    L.ConflictMap.Labels: town and country labels for the no-tiles basemap
 *   basemap.js   L.ConflictMap.RemoteBasemap: land, lakes, rivers fetched once
 *   legend.js    L.ConflictMap.Legend: legend control + title/date box
 *   hexagons.js  L.ConflictMap.Hexagons: events aggregated on the server, as hexagons
 *
 * A module may be evaluated more than once (streamlit-folium re-evaluates layer scripts);
 * the first definition wins: each returns at once when what it defines is already there.
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

  // A count on the map ("3", "1.2k", "1.2M"), never more than the true count (1,999 -> 1.9k).
  function shortCount(n) {
    if (n < 1000) { return String(n); }
    if (n < 10000) { return (Math.floor(n / 100) / 10) + 'k'; }
    if (n < 1e6) { return Math.floor(n / 1000) + 'k'; }
    return (Math.floor(n / 1e5) / 10) + 'M';
  }
  CM.shortCount = shortCount;

  // ---------------------------------------------------------------------------------------
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

  // The helpers the other modules take from here: one copy of each, so none drifts.
  CM.util = {
    el: el, isoDay: isoDay, fmtCount: fmtCount, shortCount: shortCount, cutAt: cutAt,
    ensurePane: ensurePane, DAY_MS: DAY_MS, SVG_NS: SVG_NS
  };
}(window.L));
