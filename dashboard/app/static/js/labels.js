/*
 * labels.js: L.ConflictMap.Labels, town and country labels for the no-tiles basemap
 * (needs core.js).
 */
(function (L) {
  'use strict';
  if (!L) { return; }
  var CM = L.ConflictMap;
  if (!CM) { throw new Error('conflictmap labels.js: core.js must be loaded before it'); }
  if (CM.Labels) { return; }
  var el = CM.util.el;

  // Towns (with Arabic names where given) and countries, shown by zoom, never overlapping:
  // labels are placed in order of priority, each at the first spot beside its point (right
  // or left, level with the dot or nudged up or down while still beside it, then above or
  // below it, centred or to one side) where it covers no label or town dot placed before
  // it; a town label that finds none keeps its dot and loses its text (a country label is
  // left out). Redone whenever the map's view or size changes.
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
      var free = function (area, skip) {
        for (var i = 0; i < taken.length; i++) {
          var t = taken[i];
          if (t === skip) { continue; }
          if (area.left < t.right && t.left < area.right && area.top < t.bottom && t.top < area.bottom) {
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
}(window.L));
