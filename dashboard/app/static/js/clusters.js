/*
 * clusters.js: L.ConflictMap.cluster, the events in a Leaflet.markercluster group (needs
 * core.js, points.js for the payload, the symbols and the popups, and the plugin).
 */
(function (L) {
  'use strict';
  if (!L) { return; }
  var CM = L.ConflictMap;
  if (!CM || !CM.Points) {
    throw new Error('conflictmap clusters.js: core.js and points.js must be loaded before it');
  }
  if (CM.cluster) { return; }

  // The data of points.js in a Leaflet.markercluster group of circle markers. A click on a
  // cluster whose events would overlap where they are (all within CLUSTER_LIST_SPAN pixels
  // at the zoom shown), or that cannot split (the deepest zoom), lists its events, newest
  // first, where the plugin would zoom to street level or fan its markers out at made-up
  // places; any other cluster zooms in to split.
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
        radius: CM.radiusOf(s, data.fat[i]),
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
      var newest = list[0], latlng = [data.lat[newest] / data.scale, data.lon[newest] / data.scale];
      CM.openEventsPopup(group._map, data, list, latlng);
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
      var children = cluster.getAllChildMarkers(), list = [], k;
      for (k = 0; k < children.length; k++) { list.push(children[k]._cmIndex); }
      openList(CM.newestFirst(data, list));
    });
    group.stats = { n: data.n };
    return group;
  };
}(window.L));
