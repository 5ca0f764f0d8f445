/* global console, document, sessionStorage, fetch, WebSocket, location, setTimeout, clearTimeout, setInterval */
/**
 * The live fleet page: one more client of the public API, with the token a person pastes.
 * It reads with POST /graphql and listens with graphql-ws (protocol graphql-transport-ws, spoken by
 * hand below: no bundler, no framework). Everything shown is set through textContent, never HTML.
 */

const TOKEN_KEY = "fleetgraph.token";
/** At most this many vehicles are loaded (pages of 100); the summary says when there are more. */
const MAX_VEHICLES = 500;
/** A vehicle whose freshest value is older than this is marked stale. */
const STALE_SECONDS = 15 * 60;

/** The table's columns: each shows the first of its signals the vehicle has. */
const COLUMNS = [
  { title: "charge", codes: ["tractionbattery-stateofcharge"] },
  { title: "range", codes: ["tractionbattery-range"] },
  { title: "odometer", codes: ["odometer-traveleddistance"] },
  { title: "charging", codes: ["charge-detailedchargingstatus", "charge-ischarging"] },
  { title: "lock", codes: ["closure-islocked"] },
  { title: "location", codes: ["location-preciselocation"] },
];
const LOCATION = "location-preciselocation";
const KEY_CODES = COLUMNS.flatMap((column) => column.codes);

const SIGNAL_FIELDS = "vehicleId code value unit body observedAt receivedAt ageSeconds";
const ISSUE_FIELDS = "id vehicleId type code state description openedAt updatedAt openSeconds";
const VEHICLE_FIELDS = `id make model year lastSeenAt
  signals(codes: $codes) { ${SIGNAL_FIELDS} }
  issues(state: OPEN) { ${ISSUE_FIELDS} }`;
const FLEET_QUERY = `query Fleet($after: String, $codes: [String!]) {
  vehicles(first: 100, after: $after, orderBy: { field: ID, direction: ASC }) {
    totalCount
    edges { node { ${VEHICLE_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const VEHICLE_QUERY = `query Vehicle($id: ID!, $codes: [String!]) { vehicle(id: $id) { ${VEHICLE_FIELDS} } }`;
const SIGNALS_SUBSCRIPTION = `subscription Signals($codes: [String!], $since: DateTime) {
  signalUpdated(codes: $codes, since: $since) { ${SIGNAL_FIELDS} }
}`;
const ISSUES_SUBSCRIPTION = `subscription Issues($since: DateTime) {
  vehicleIssueUpdated(since: $since) { ${ISSUE_FIELDS} }
}`;

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

/** What the page knows; ages are kept as the local clock's instant of observation. */
const fleet = {
  token: null,
  /** id → { vehicle, signals: Map(code → signal with observedLocal) } */
  vehicles: new Map(),
  /** id → open issue, with openedLocal */
  issues: new Map(),
  totalCount: 0,
  /** The newest server time seen (receivedAt, updatedAt): subscriptions resume from it, so nothing is missed. */
  since: undefined,
  live: null,
  retries: 0,
  reconnectTimer: undefined,
};

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function authorization() {
  return fleet.token ? { Authorization: `Bearer ${fleet.token}` } : {};
}

/** POST /graphql; resolves with `data`, or throws an ApiError with the first error's code. */
async function query(document, variables) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...authorization() },
    body: JSON.stringify({ query: document, variables }),
  });
  let result;
  try {
    result = await response.json();
  } catch {
    throw new ApiError(`HTTP_${response.status}`, `HTTP ${response.status}`);
  }
  const error = result.errors?.[0] ?? result.error;
  if (error) throw new ApiError(error.extensions?.code ?? error.code ?? `HTTP_${response.status}`, error.message);
  return result.data;
}

/**
 * A graphql-transport-ws connection: connection_init with the token, then subscribe/next/error/complete
 * per operation id; pings are answered with pongs. `onReady` runs at connection_ack, `onClose` with the
 * close code.
 */
function openLive({ onReady, onClose }) {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const socket = new WebSocket(url, "graphql-transport-ws");
  const sinks = new Map();
  let nextId = 1;
  const send = (message) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message));
  socket.addEventListener("open", () => send({ type: "connection_init", payload: authorization() }));
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    const sink = sinks.get(message.id);
    switch (message.type) {
      case "connection_ack":
        onReady();
        break;
      case "ping":
        send({ type: "pong" });
        break;
      case "next":
        sink?.next(message.payload);
        break;
      case "error":
        sinks.delete(message.id);
        sink?.error(message.payload);
        break;
      case "complete":
        sinks.delete(message.id);
        sink?.complete?.();
        break;
    }
  });
  socket.addEventListener("close", (event) => onClose(event.code, event.reason));
  return {
    subscribe(document, variables, sink) {
      const id = String(nextId++);
      sinks.set(id, sink);
      send({ id, type: "subscribe", payload: { query: document, variables } });
    },
    close() {
      socket.close(1000, "signed out");
    },
  };
}

// ---------------------------------------------------------------- state

function noteSince(time) {
  if (time && (!fleet.since || Date.parse(time) > Date.parse(fleet.since))) fleet.since = time;
}

function keepSignal(signal) {
  const entry = fleet.vehicles.get(signal.vehicleId);
  if (!entry) return false;
  entry.signals.set(signal.code, { ...signal, observedLocal: Date.now() - signal.ageSeconds * 1000 });
  noteSince(signal.receivedAt);
  return true;
}

function keepIssue(issue) {
  if (issue.state === "OPEN") fleet.issues.set(issue.id, { ...issue, openedLocal: Date.now() - issue.openSeconds * 1000 });
  else fleet.issues.delete(issue.id);
  noteSince(issue.updatedAt);
}

function keepVehicle(vehicle) {
  fleet.vehicles.set(vehicle.id, { vehicle, signals: new Map() });
  for (const signal of vehicle.signals) keepSignal(signal);
  for (const issue of vehicle.issues) keepIssue(issue);
}

async function loadFleet() {
  fleet.vehicles.clear();
  fleet.issues.clear();
  let after = null;
  do {
    const { vehicles } = await query(FLEET_QUERY, { after, codes: KEY_CODES });
    fleet.totalCount = vehicles.totalCount;
    for (const { node } of vehicles.edges) keepVehicle(node);
    after = vehicles.pageInfo.hasNextPage ? vehicles.pageInfo.endCursor : null;
  } while (after && fleet.vehicles.size < MAX_VEHICLES);
}

/** A vehicle heard of only through a subscription (new, or beyond the first pages). */
async function loadVehicle(id) {
  if (fleet.vehicles.has(id)) return;
  const { vehicle } = await query(VEHICLE_QUERY, { id, codes: KEY_CODES });
  if (!vehicle || fleet.vehicles.has(id)) return;
  fleet.totalCount += 1;
  keepVehicle(vehicle);
}

// ---------------------------------------------------------------- live updates

function goLive() {
  const live = openLive({
    onReady: () => {
      const since = fleet.since;
      live.subscribe(SIGNALS_SUBSCRIPTION, { codes: KEY_CODES, since }, { next: onSignal, error: onLiveError });
      live.subscribe(ISSUES_SUBSCRIPTION, { since }, { next: onIssue, error: onLiveError });
      // The server handles a socket's messages in order: once this query answers, both subscriptions listen.
      live.subscribe("{ __typename }", {}, {
        next: () => {},
        error: onLiveError,
        complete: () => {
          fleet.retries = 0;
          setStatus("live", "live");
        },
      });
    },
    onClose: (code, reason) => {
      if (fleet.live !== live) return; // replaced or signed out
      fleet.live = null;
      if (code === 4401) return signOut(`The token was refused or has expired (${reason || "4401"}): sign in again.`);
      // Reconnect with backoff; `since` replays what happened meanwhile.
      const delay = Math.min(30_000, 1000 * 2 ** fleet.retries++);
      setStatus(`connection lost (${code}): reconnecting in ${Math.round(delay / 1000)} s`, "warning");
      fleet.reconnectTimer = setTimeout(goLive, delay);
    },
  });
  fleet.live = live;
}

async function onSignal({ data, errors }) {
  if (errors) return onLiveError(errors);
  const signal = data.signalUpdated;
  if (!keepSignal(signal)) await loadVehicle(signal.vehicleId).catch(showError);
  render();
}

async function onIssue({ data, errors }) {
  if (errors) return onLiveError(errors);
  const issue = data.vehicleIssueUpdated;
  keepIssue(issue);
  if (issue.vehicleId && !fleet.vehicles.has(issue.vehicleId)) await loadVehicle(issue.vehicleId).catch(showError);
  render();
}

/** A subscription ended with an error (say REPLAY_TOO_LONG): start over from a fresh load. */
function onLiveError(errors) {
  const error = Array.isArray(errors) ? errors[0] : errors;
  setStatus(`live updates failed (${error?.extensions?.code ?? error?.message ?? "error"}): reloading`, "warning");
  restart();
}

// ---------------------------------------------------------------- sign in and out

async function start() {
  $("sign-in").hidden = true;
  $("sign-out").hidden = false;
  setStatus("loading", "");
  try {
    await loadFleet();
  } catch (error) {
    if (error.code === "UNAUTHENTICATED") return signOut(`The token was refused: ${error.message}`);
    return showError(error);
  }
  $("fleet").hidden = false;
  render();
  goLive();
}

function stopLive() {
  clearTimeout(fleet.reconnectTimer);
  const live = fleet.live;
  fleet.live = null;
  live?.close();
}

function restart() {
  stopLive();
  fleet.since = undefined;
  start();
}

function signOut(message = "") {
  stopLive();
  sessionStorage.removeItem(TOKEN_KEY);
  fleet.token = null;
  fleet.since = undefined;
  fleet.vehicles.clear();
  fleet.issues.clear();
  $("fleet").hidden = true;
  $("sign-in").hidden = false;
  $("sign-out").hidden = true;
  $("sign-in-error").textContent = message;
  setStatus("signed out", "");
}

function showError(error) {
  setStatus(`error: ${error.message}`, "error");
}

function setStatus(text, kind) {
  $("status").textContent = text;
  $("status").className = `status ${kind}`;
}

// ---------------------------------------------------------------- rendering

/** What a cell shows for a signal without a value, and for a value the page cannot read. */
const NO_VALUE = "—";
const UNREADABLE = "?";

/**
 * A signal's value as Smartcar sent it: `body` holds it for every kind ({value}, {percentage}, a
 * location's fields at its root). Bodies are stored as sent, so this may be any JSON.
 */
function valueOf(signal) {
  const body = signal.body;
  if (body && typeof body === "object") {
    if ("latitude" in body || "longitude" in body) return body;
    if ("value" in body) return body.value;
    if ("percentage" in body) return body.percentage;
  }
  return signal.value;
}

function isLocation(value) {
  return Number.isFinite(value?.latitude) && Number.isFinite(value?.longitude);
}

/** A signal's value as text, for any JSON: NO_VALUE when there is none, UNREADABLE when it is of no shape the page knows. */
function formatSignal(signal) {
  const value = valueOf(signal);
  if (value === null || value === undefined || value === "") return NO_VALUE;
  if (typeof value === "boolean") {
    if (signal.code === "closure-islocked") return value ? "locked" : "unlocked";
    if (signal.code === "charge-ischarging") return value ? "charging" : "not charging";
    return value ? "yes" : "no";
  }
  if (typeof value === "number") {
    const shown = Math.abs(value) >= 100 ? Math.round(value).toLocaleString("en") : String(Math.round(value * 10) / 10);
    if (signal.unit === "percent" || signal.code.endsWith("stateofcharge")) return `${shown} %`;
    return signal.unit ? `${shown} ${signal.unit}` : shown;
  }
  if (typeof value === "string") return value.replaceAll("_", " ").toLowerCase();
  if (isLocation(value)) return `${value.latitude.toFixed(4)}, ${value.longitude.toFixed(4)}`;
  return UNREADABLE;
}

/** A signal's text where one bad value must not stop the rest: a bug in formatting shows UNREADABLE for that signal alone. */
function signalText(signal) {
  try {
    return formatSignal(signal);
  } catch (error) {
    console.error(`fleet page: cannot show ${signal.code}`, error);
    return UNREADABLE;
  }
}

function formatAge(seconds) {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function vehicleLabel(vehicle) {
  return [vehicle.make, vehicle.model, vehicle.year].filter((part) => part !== null && part !== undefined).join(" ") || vehicle.id;
}

/** An element whose text is an age, kept current by the clock below. */
function ageElement(tag, observedLocal, className) {
  const node = element(tag, formatAge((Date.now() - observedLocal) / 1000), className);
  node.dataset.observed = String(observedLocal);
  return node;
}

function sortedVehicles() {
  return [...fleet.vehicles.values()].sort((a, b) => vehicleLabel(a.vehicle).localeCompare(vehicleLabel(b.vehicle)) || a.vehicle.id.localeCompare(b.vehicle.id));
}

function renderVehicles(entries) {
  const rows = entries.map(({ vehicle, signals }) => {
    const row = element("tr");
    row.dataset.vehicleId = vehicle.id;
    const name = element("td");
    name.append(element("span", vehicleLabel(vehicle)), element("small", vehicle.id, "muted id"));
    row.append(name);
    for (const column of COLUMNS) {
      const signal = column.codes.map((code) => signals.get(code)).find(Boolean);
      const text = signal ? signalText(signal) : NO_VALUE;
      const cell = element("td", text, text === NO_VALUE ? "muted" : "");
      cell.dataset.column = column.title;
      if (signal) cell.title = `${signal.code}, observed ${signal.observedAt}`;
      row.append(cell);
    }
    const freshest = Math.max(...[...signals.values()].map((signal) => signal.observedLocal));
    const stale = !Number.isFinite(freshest) || Date.now() - freshest > STALE_SECONDS * 1000;
    const age = Number.isFinite(freshest) ? ageElement("td", freshest, stale ? "stale" : "fresh") : element("td", "—", "muted");
    age.dataset.column = "fresh";
    row.append(age);
    return row;
  });
  $("vehicles").tBodies[0].replaceChildren(...rows);
}

function renderIssues() {
  const items = [...fleet.issues.values()]
    .sort((a, b) => a.openedLocal - b.openedLocal)
    .map((issue) => {
      const item = element("li");
      item.dataset.issueId = issue.id;
      const vehicle = fleet.vehicles.get(issue.vehicleId)?.vehicle;
      item.append(
        element("strong", [issue.type, issue.code].filter(Boolean).join(" · ")),
        element("span", ` on ${vehicle ? vehicleLabel(vehicle) : issue.vehicleId ?? "a vehicle"}, open for `),
        ageElement("span", issue.openedLocal),
      );
      if (issue.description) item.append(element("div", issue.description, "muted small"));
      return item;
    });
  $("issues").replaceChildren(...(items.length > 0 ? items : [element("li", "none", "muted")]));
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Locations on a plain plot: longitude scaled by the cosine of the latitude, so short distances keep their shape. */
function renderMap(entries) {
  const [width, height, margin] = [400, 300, 24];
  const points = entries.flatMap(({ vehicle, signals }) => {
    const signal = signals.get(LOCATION);
    const at = signal && valueOf(signal);
    return isLocation(at) ? [{ vehicle, signal, latitude: at.latitude, longitude: at.longitude }] : [];
  });
  const map = $("map");
  if (points.length === 0) {
    map.replaceChildren(svg("rect", { class: "map-bg", width, height }), svg("text", { x: width / 2, y: height / 2, class: "map-note" }, "no locations yet"));
    return;
  }
  const latitudes = points.map((point) => point.latitude);
  const longitudes = points.map((point) => point.longitude);
  const cos = Math.cos(((Math.min(...latitudes) + Math.max(...latitudes)) / 2) * (Math.PI / 180));
  const span = Math.max(0.01, Math.max(...latitudes) - Math.min(...latitudes), (Math.max(...longitudes) - Math.min(...longitudes)) * cos);
  const scale = Math.min(width - 2 * margin, height - 2 * margin) / span;
  const midLat = (Math.min(...latitudes) + Math.max(...latitudes)) / 2;
  const midLon = (Math.min(...longitudes) + Math.max(...longitudes)) / 2;
  const x = (longitude) => width / 2 + (longitude - midLon) * cos * scale;
  const y = (latitude) => height / 2 - (latitude - midLat) * scale;
  const nodes = [svg("rect", { class: "map-bg", width, height })];
  nodes.push(svg("text", { x: 6, y: height - 6, class: "map-note" }, `${(span * 111).toFixed(1)} km across`));
  for (const point of points) {
    const stale = Date.now() - point.signal.observedLocal > STALE_SECONDS * 1000;
    const group = svg("g", { class: stale ? "dot stale" : "dot", "data-vehicle-id": point.vehicle.id });
    group.append(
      svg("circle", { cx: x(point.longitude).toFixed(1), cy: y(point.latitude).toFixed(1), r: 5 }),
      svg("text", { x: (x(point.longitude) + 8).toFixed(1), y: (y(point.latitude) + 4).toFixed(1) }, vehicleLabel(point.vehicle)),
      svg("title", {}, `${vehicleLabel(point.vehicle)}: ${signalText(point.signal)}`),
    );
    nodes.push(group);
  }
  map.replaceChildren(...nodes);
}

function count(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function render() {
  const entries = sortedVehicles();
  renderVehicles(entries);
  renderIssues();
  renderMap(entries);
  const more = fleet.totalCount > fleet.vehicles.size ? ` (the first ${fleet.vehicles.size} of ${fleet.totalCount})` : "";
  $("summary").textContent = `${count(fleet.vehicles.size, "vehicle")}${more}, ${count(fleet.issues.size, "open issue")}`;
}

/** Ages advance without asking the server: each was measured once, against the local clock. */
setInterval(() => {
  for (const node of document.querySelectorAll("[data-observed]")) {
    node.textContent = formatAge((Date.now() - Number(node.dataset.observed)) / 1000);
  }
}, 5000);

// ---------------------------------------------------------------- wiring

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  // Pasted as "Bearer <JWT>" or alone; empty only makes sense against a development API without JWT_SECRET.
  fleet.token = $("token").value.trim().replace(/^Bearer\s+/i, "") || null;
  $("token").value = "";
  $("sign-in-error").textContent = "";
  if (fleet.token) sessionStorage.setItem(TOKEN_KEY, fleet.token);
  start();
});
$("sign-out").addEventListener("click", () => signOut());

fleet.token = sessionStorage.getItem(TOKEN_KEY);
if (fleet.token) start();
