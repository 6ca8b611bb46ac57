// The overview's map: country outlines (Natural Earth, served by the app) and the matching
// events, as points when there are few enough to draw one by one, else as a grid of counts
// from the aggregates. One Leaflet map for the page's life, moved into each overview drawn.
import * as L from "../vendor/leaflet/leaflet-src.esm.js";
import { ROOT } from "./api.js";

const BASEMAP = `${ROOT}/explore/static/vendor/world-atlas/countries-110m.geojson`;
let map = null;
let container = null;
let dataLayer = null;
let basemap = null;

export function mapElement() {
  if (map) return container;
  container = document.createElement("div");
  container.className = "map";
  container.id = "map";
  map = L.map(container, {
    worldCopyJump: true,
    minZoom: 1,
    maxZoom: 12,
    attributionControl: false,
    keyboard: true,
    preferCanvas: true,
  }).setView([25, 20], 2);
  L.control.attribution({ prefix: false }).addAttribution("Natural Earth").addTo(map);
  basemap = fetch(BASEMAP)
    .then((response) => response.json())
    .then((countries) => {
      L.geoJSON(countries, {
        interactive: false,
        style: { color: "#7a8793", weight: 0.8, fillColor: "#eef1f4", fillOpacity: 1 },
      }).addTo(map).bringToBack();
    });
  return container;
}

// After the container is in the page (Leaflet measures it).
export function mapShown() {
  map.invalidateSize();
}

function resetLayer() {
  if (dataLayer) dataLayer.remove();
  dataLayer = L.featureGroup().addTo(map);
  return dataLayer;
}

function fit(layer) {
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds.pad(0.3), { maxZoom: 7 });
}

// Points: GeoJSON features of events; `linkTo(id)` gives each one's record page.
export function showPoints(features, linkTo) {
  const layer = resetLayer();
  for (const feature of features) {
    if (!feature.geometry) continue;
    const [lon, lat] = feature.geometry.coordinates;
    const marker = L.circleMarker([lat, lon], {
      radius: 7, color: "#0b4f8a", weight: 2, fillColor: "#2f7fc1", fillOpacity: 0.7,
    });
    const title = feature.properties.title || feature.id;
    const link = document.createElement("a");
    link.href = linkTo(feature.id);
    link.textContent = title;
    marker.bindPopup(link);
    marker.bindTooltip(title);
    marker.addTo(layer);
  }
  fit(layer);
  return basemap;
}

// A grid of counts: groups of /v1/events/aggregate?group_by=grid (key "lat,lon", the cell's
// south-west corner), `cell` degrees wide.
export function showGrid(groups, cell) {
  const layer = resetLayer();
  const max = Math.max(1, ...groups.map((g) => g.count));
  for (const group of groups) {
    if (!group.key.grid) continue;
    const [lat, lon] = group.key.grid.split(",").map(Number);
    const share = Math.log1p(group.count) / Math.log1p(max);
    L.rectangle([[lat, lon], [lat + cell, lon + cell]], {
      weight: 0.5, color: "#08306b", fillColor: "#08519c", fillOpacity: 0.15 + 0.7 * share,
    }).bindTooltip(`${group.count.toLocaleString("en")} events`).addTo(layer);
  }
  fit(layer);
  return basemap;
}
