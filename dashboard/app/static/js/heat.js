/*
 * heat.js: L.ConflictMap.heat, event density drawn by Leaflet.heat (needs core.js and the
 * plugin).
 */
(function (L) {
  'use strict';
  if (!L) { return; }
  var CM = L.ConflictMap;
  if (!CM) { throw new Error('conflictmap heat.js: core.js must be loaded before it'); }
  if (CM.heat) { return; }

  // Leaflet.heat in its own pane (see CM.setup in core.js), from [lat, lon] integer pairs.
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
}(window.L));
