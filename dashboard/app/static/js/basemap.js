/*
 * basemap.js: L.ConflictMap.RemoteBasemap, the no-tiles basemap fetched from the app's
 * static folder (needs core.js).
 */
(function (L) {
  'use strict';
  if (!L) { return; }
  var CM = L.ConflictMap;
  if (!CM) { throw new Error('conflictmap basemap.js: core.js must be loaded before it'); }
  if (CM.RemoteBasemap) { return; }
  var ensurePane = CM.util.ensurePane;

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
}(window.L));
