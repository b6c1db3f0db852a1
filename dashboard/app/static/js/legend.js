/*
 * legend.js: L.ConflictMap.Legend, the legend control + title/date box (a layer, so it can
 * live in a FeatureGroup and be switched off in the layer control); needs core.js.
 * Data strings (controllers, event types) are inserted with textContent only.
 */
(function (L) {
  'use strict';
  if (!L) { return; }
  var CM = L.ConflictMap;
  if (!CM) { throw new Error('conflictmap legend.js: core.js must be loaded before it'); }
  if (CM.Legend) { return; }
  var el = CM.util.el, SVG_NS = CM.util.SVG_NS;

  // Legend + title box. spec: {title, subtitle, controllers: [[name, colour, hatched]],
  // types: [[name, colour]], counts: [text], symbols: {...}, headings: {...}}, and the
  // keys of other layers when on the map with them: outlines (the change map), heat,
  // hexagons.
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
          // the third item names a swatch style: 'hatched' (Contested), 'veiled' (No information)
          sw = el('span', 'cm-swatch' + (spec.controllers[k][2] ? ' cm-swatch-' + spec.controllers[k][2] : ''));
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
      this._outlineKey(box);
      this._heatKey(box);
      this._hexagonKey(box);
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
    },

    // spec.hexagons = {heading, classes: [[label, fill]], sentence, hint, outline,
    // fillOpacity}: the hexagons' ramp and "N events shown as M hexagons (...)", above the
    // counts.
    _hexagonKey: function (box) {
      var hx = this._spec.hexagons, k, row;
      if (!hx) { return; }
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
    }
  });

  CM.legend = function (spec) { return new CM.Legend(spec); };

  // A hexagon of the legend's ramp, as the map draws them (pointy top).
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
}(window.L));
