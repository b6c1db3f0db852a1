/*
 * hexagons.js: events aggregated on the server (dashboard/aggregate.py, layers/hexes.py);
 * needs core.js.
 *
 *   L.ConflictMap.Hexagons  a canvas layer (subclass of L.Canvas, by way of
 *                           L.ConflictMap.DataCanvas) drawing one regular hexagon per cell
 *                           of a Web Mercator hexagonal grid, filled by count, labelled
 *                           with the count when there is room; click -> popup with the
 *                           count, fatalities, counts per type, dates
 *
 * Their legend (the ramp, "N events shown as M hexagons") is drawn by legend.js from the
 * legend's own spec. Data strings (event types) are inserted with textContent only.
 */
(function (L) {
  'use strict';
  if (!L) { return; }
  var CM = L.ConflictMap;
  if (!CM) { throw new Error('conflictmap hexagons.js: core.js must be loaded before it'); }
  if (CM.Hexagons) { return; }

  var EARTH_RADIUS = 6378137;  // the Web Mercator sphere, as dashboard/aggregate.py
  var WORLD_M = 2 * Math.PI * EARTH_RADIUS;
  var SQRT3 = Math.sqrt(3);
  var util = CM.util, el = util.el, isoDay = util.isoDay, fmtCount = util.fmtCount;
  var shortCount = util.shortCount;  // the labels on the map (1,999 -> 1.9k)

  CM.hexagonLayers = [];

  // As format_distance in dashboard/aggregate.py: "850 m", "2.4 km", "12 km".
  function formatDistance(m) {
    if (!(m > 0)) { return '0 m'; }
    var rounded = Number(m.toPrecision(2));
    if (rounded < 1000) { return fmtCount(rounded) + ' m'; }
    if (rounded < 10000) { return (rounded / 1000).toFixed(1) + ' km'; }
    return fmtCount(Math.round(m / 1000)) + ' km';
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

  // The popup record of hexagon i: title, [label, text] rows, [type, colour, count] rows.
  CM.hexagonRecord = function (d, i, lat) {
    var lb = d.labels, n = d.count[i], unk = d.unk[i], k, rows = [], types = [];
    var noun = function (c) { return c === 1 ? lb.event : lb.events; };
    var fat = fmtCount(d.fat[i]) + ' ' + lb.known;
    if (unk > 0) { fat += '; ' + lb.unknownFor + ' ' + fmtCount(unk) + ' ' + noun(unk); }
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
    return { title: fmtCount(n) + ' ' + noun(n) + ' ' + lb.inHexagon, rows: rows, types: types, n: n };
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
        var count = el('span', null, fmtCount(rec.types[k][2]) + ' (' + share + ' %)');
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

    // Above the SVG areas and the heat map, below points.
    _beforeAdd: function (map) { util.ensurePane(map, 'cmHexagons', 445, true); },

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
}(window.L));
