/*
 * conflictmap.js: the dashboard's own Leaflet layers (Leaflet 1.9, nothing else).
 *
 * Built by dashboard/layers (Python); each layer gets its data as one JSON value.
 * Every data string reaches the page through textContent / createTextNode: nothing
 * here ever assigns data to innerHTML.
 *
 *   L.ConflictMap.Points   events as circles on a canvas (a subclass of L.Canvas, the
 *                          Leaflet canvas renderer), popups from per-point records
 *   L.ConflictMap.heat     Leaflet.heat in a pane above the SVG areas
 *   L.ConflictMap.Labels   town and country labels for the no-tiles basemap
 *   L.ConflictMap.Legend   legend control + title/date box (a layer, so it can live in a
 *                          FeatureGroup and be switched off in the layer control)
 *   L.ConflictMap.setup    map-wide setup: panes, hatch pattern, no-tiles background
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

  function isoDay(day) {
    if (day === null || day === undefined || day < -1e7) { return ''; }
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


  // The popup record of point i: [label, text] rows, all plain strings.
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
        [labels.notes, (rec.notes && rec.notes[i]) || ''],
        [labels.eventId, (rec.id && rec.id[i]) || '']
      ]
    };
  };

  // "Unknown" is not a controller: say that no area was mapped there, without a confidence.
  function controllerText(ctrl, conf, labels) {
    if (!ctrl) { return ''; }
    if (ctrl === labels.unknownController) { return labels.outsideAreas; }
    return conf ? ctrl + ' (' + conf + ' confidence)' : ctrl;
  }

  // The popup of point i as DOM nodes: text only, never parsed as HTML.
  CM.popupContent = function (d, i) {
    var r = CM.record(d, i);
    var root = el('div', 'cm-popup');
    root.appendChild(el('div', 'cm-popup-title', r.title));
    var table = el('table');
    for (var k = 0; k < r.rows.length; k++) {
      if (!r.rows[k][1]) { continue; }
      var tr = el('tr');
      tr.appendChild(el('th', null, r.rows[k][0]));
      var td = el('td', null, r.rows[k][1]);
      td.setAttribute('dir', 'auto');
      tr.appendChild(td);
      table.appendChild(tr);
    }
    root.appendChild(table);
    return root;
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
  CM.Points = L.Canvas.extend({
    options: { padding: 0.1, pane: 'cmPoints', tolerance: 3 },

    initialize: function (data, options) {
      L.Canvas.prototype.initialize.call(this, options);
      this._data = data;
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
      this._projZoom = null;
      this._x = new Float64Array(n);
      this._y = new Float64Array(n);
      this.stats = { n: n, drawn: 0, draws: 0, lastDrawMs: 0 };
    },

    getEvents: function () {
      var events = L.Canvas.prototype.getEvents.call(this);
      events.click = this._onMapClick;
      events.mousemove = this._onMapMouseMove;
      return events;
    },

    onAdd: function (map) {
      CM.setup(map);
      L.Canvas.prototype.onAdd.call(this, map);
      CM.layers.push(this);
    },

    onRemove: function (map) {
      var k = CM.layers.indexOf(this);
      if (k >= 0) { CM.layers.splice(k, 1); }
      if (this._popup) { map.closePopup(this._popup); }
      L.DomUtil.removeClass(map.getContainer(), 'cm-pointer');
      L.Canvas.prototype.onRemove.call(this, map);
    },

    _initContainer: function () {
      var container = this._container = document.createElement('canvas');
      container.style.pointerEvents = 'none';
      container.className = 'cm-points-canvas';
      this._ctx = container.getContext('2d');
    },

    _updatePaths: function () {
      if (this._postponeUpdatePaths) { return; }
      this._redrawBounds = null;
      this._redraw();
    },

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
    },

    _draw: function () {
      if (!this._map || !this._ctx) { return; }
      var t0 = Date.now();
      this._project();
      var d = this._data, s = d.style, ctx = this._ctx, b = this._bounds;
      var origin = this._map.getPixelOrigin();
      var nTypes = d.colours.length, groups = [], g, i, x, y, r, hollow, unknown, key;
      // Batch by (type, hollow, unknown): one path, one fill and one stroke per batch.
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
      ctx.save();
      // Hollow (approximate location) first, so precise points stay on top.
      var pass, t, kind, list, k, xs = this._x, ys = this._y, rs = this._radius;
      for (pass = 0; pass < 2; pass++) {
        for (t = 0; t < nTypes; t++) {
          for (kind = 0; kind < 2; kind++) {
            list = groups[t * 4 + pass * 2 + kind];
            if (!list.length) { continue; }
            ctx.beginPath();
            for (k = 0; k < list.length; k++) {
              i = list[k];
              x = xs[i] - origin.x;
              y = ys[i] - origin.y;
              ctx.moveTo(x + rs[i], y);
              ctx.arc(x, y, rs[i], 0, 2 * Math.PI);
            }
            var colour = d.colours[t];
            ctx.setLineDash(kind === 1 ? [2, 2] : []);
            if (pass === 0) {  // hollow: faint fill, thick ring in the type's colour
              ctx.globalAlpha = s.hollowOpacity;
              ctx.fillStyle = colour;
              ctx.fill();
              ctx.globalAlpha = 0.95;
              ctx.lineWidth = 2;
              ctx.strokeStyle = colour;
              ctx.stroke();
            } else {  // precise: solid fill, thin dark outline (dashed = fatalities unknown)
              ctx.globalAlpha = s.fillOpacity;
              ctx.fillStyle = colour;
              ctx.fill();
              ctx.globalAlpha = 1;
              ctx.lineWidth = kind === 1 ? 1.2 : 0.7;
              ctx.strokeStyle = s.outline;
              ctx.stroke();
            }
          }
        }
      }
      ctx.restore();
      this.stats.drawn = drawn;
      this.stats.draws += 1;
      this.stats.lastDrawMs = Date.now() - t0;
      this.fire('cm:drawn', { drawn: drawn });
    },

    // Index of the point under a layer point, or -1: the nearest centre within its radius
    // (+ tolerance); a linear scan, about 1 ms for 100k points.
    _hit: function (layerPoint) {
      if (this._projZoom === null) { return -1; }
      var origin = this._map.getPixelOrigin(), best = -1, bestD = Infinity;
      var px = layerPoint.x + origin.x, py = layerPoint.y + origin.y, tol = this.options.tolerance;
      var i, dx, dy, d2, rr;
      for (i = 0; i < this._n; i++) {
        dx = this._x[i] - px;
        dy = this._y[i] - py;
        rr = this._radius[i] + tol;
        d2 = dx * dx + dy * dy;
        if (d2 <= rr * rr && d2 <= bestD) { best = i; bestD = d2; }
      }
      return best;
    },

    _onMapClick: function (e) {
      if (!this._map || !e.originalEvent) { return; }
      var i = this._hit(this._map.mouseEventToLayerPoint(e.originalEvent));
      if (i < 0) { return; }
      var latlng = L.latLng(this._lat[i], this._lon[i]);
      var popup = L.popup({ minWidth: 240, maxWidth: 340, className: 'cm-popup-wrap' })
        .setLatLng(latlng)
        .setContent(this.popupContent(i));
      this._popup = popup;  // streamlit-folium reads the clicked layer's popup text
      popup.openOn(this._map);
      var rec = this._data.rec;
      this.fire('click', {
        latlng: latlng, index: i, eventId: rec && rec.id ? rec.id[i] : null,
        originalEvent: e.originalEvent
      });
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

    record: function (i) { return CM.record(this._data, i); },

    popupContent: function (i) { return CM.popupContent(this._data, i); }
  });

  CM.points = function (data, options) { return new CM.Points(data, options); };


  // ---------------------------------------------------------------------------------------
  // Clusters: the same data in a Leaflet.markercluster group of circle markers.
  CM.cluster = function (data) {
    var group = L.markerClusterGroup({ chunkedLoading: true, showCoverageOnHover: false });
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
    group.on('click', function (e) {
      var idx = e.layer && e.layer._cmIndex;
      if (idx === undefined || !group._map) { return; }
      L.popup({ minWidth: 240, maxWidth: 340, className: 'cm-popup-wrap' })
        .setLatLng(e.layer.getLatLng())
        .setContent(CM.popupContent(data, idx))
        .openOn(group._map);
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
  // Labels: towns (with Arabic names where given) and countries, shown by zoom.
  // rows: [lat, lon, name, nameAr, minZoom, kind]
  CM.Labels = L.Layer.extend({
    options: { pane: 'cmLabels' },

    initialize: function (data, options) {
      L.setOptions(this, options);
      this._rows = data.rows || [];
      this._markers = [];
    },

    onAdd: function (map) {
      CM.setup(map);
      var k, row, label, icon, marker;
      for (k = 0; k < this._rows.length; k++) {
        row = this._rows[k];
        label = el('div', 'cm-label cm-label-' + row[5]);
        if (row[5] !== 'country') { label.appendChild(el('span', 'cm-town-dot')); }
        label.appendChild(el('span', 'cm-label-name', row[2]));
        if (row[3]) {
          var ar = el('span', 'cm-label-ar', row[3]);
          ar.setAttribute('lang', 'ar');
          ar.setAttribute('dir', 'rtl');
          label.appendChild(ar);
        }
        icon = L.divIcon({ html: label, className: 'cm-label-icon', iconSize: null });
        marker = L.marker([row[0], row[1]], {
          icon: icon, interactive: false, keyboard: false, pane: this.options.pane
        });
        marker._cmMinZoom = row[4];
        this._markers.push(marker);
      }
      map.on('zoomend', this._update, this);
      this._update();
    },

    onRemove: function (map) {
      map.off('zoomend', this._update, this);
      for (var k = 0; k < this._markers.length; k++) { map.removeLayer(this._markers[k]); }
      this._markers = [];
    },

    _update: function () {
      var map = this._map, zoom = map.getZoom(), k, m;
      for (k = 0; k < this._markers.length; k++) {
        m = this._markers[k];
        if (zoom >= m._cmMinZoom) { if (!map.hasLayer(m)) { map.addLayer(m); } }
        else if (map.hasLayer(m)) { map.removeLayer(m); }
      }
    }
  });

  CM.labels = function (data, options) { return new CM.Labels(data, options); };

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
}(window.L));
