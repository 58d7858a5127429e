// The page: a room picker, a canvas with every player of the room as a
// named dot, arrow keys or WASD to move, a chat box and a status line. The
// client's state is on window.mmo, for tests and the console.

import { BOUND, Client, MAX_CHAT, byteLength, clamp, validName, type ChatLine, type Player } from "./client";

/** speed is how far a held key moves the player, in world units a second. */
const speed = 300;
/** step is how far one key press moves it at once, before it is held. */
const step = 10;
/** view is how far the canvas shows around the player, in world units; grid is its grid's spacing. */
const view = 250;
const grid = 50;
/** moveEvery is the least time between two moves sent: under the server's 30 a second. */
const moveEvery = 50;

interface PageConfig {
  webSocket: string;
  rooms: number;
}

/** A Dot is a player as last drawn on the canvas, in canvas pixels. */
interface Dot {
  id: string;
  name: string;
  px: number;
  py: number;
}

const keys: Record<string, [number, number]> = {
  ArrowUp: [0, 1], KeyW: [0, 1],
  ArrowDown: [0, -1], KeyS: [0, -1],
  ArrowLeft: [-1, 0], KeyA: [-1, 0],
  ArrowRight: [1, 0], KeyD: [1, 0],
};

function el<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`no #${id} on the page`);
  return e as T;
}

const client = new Client();
const canvas = el<HTMLCanvasElement>("world");
const ctx2d = canvas.getContext("2d")!;
const nameInput = el<HTMLInputElement>("name");
const roomSelect = el<HTMLSelectElement>("room");
const joinButton = el<HTMLButtonElement>("join");
const statusLine = el<HTMLSpanElement>("status");
const log = el<HTMLUListElement>("log");
const chatForm = el<HTMLFormElement>("chat");
const sayInput = el<HTMLInputElement>("say");

let config: PageConfig | undefined;
let drawn: Dot[] = [];
let shownChat = 0; // client.chatCount when the log was last drawn
const held = new Set<string>(); // the movement keys held down
let lastMoveSent = 0;
let moveTimer = 0;
let dirty = true;

/** The state, as plain data, on window.mmo. */
const mmo = {
  client,
  get phase() { return client.phase; },
  get status() { return client.status; },
  get self() { return client.self; },
  get room() { return client.room; },
  get rtt() { return client.rtt; },
  /** players is everyone in the room, the player included, by id. */
  get players(): Record<string, Player> { return Object.fromEntries([...client.players].map(([id, p]) => [id, { ...p }])); },
  get chat(): ChatLine[] { return client.chat.map((c) => ({ ...c })); },
  /** drawn is the dots of the last frame drawn, in canvas pixels. */
  get drawn(): Dot[] { return drawn.map((d) => ({ ...d })); },
  join,
  say: (msg: string) => client.say(msg),
  close: () => client.close(),
};
declare global {
  interface Window { mmo: typeof mmo }
}
window.mmo = mmo;

/**
 * join connects as the name typed to the room picked, or only changes rooms
 * when already logged in under that name; a name or room given is typed or
 * picked first.
 */
function join(name?: string, room?: number): void {
  if (!config) return;
  if (name !== undefined) nameInput.value = name;
  if (room !== undefined) roomSelect.value = String(room);
  const who = nameInput.value.trim();
  const where = Number(roomSelect.value);
  if (!validName(who)) {
    statusLine.textContent = "a name is 1 to 32 bytes, without control characters";
    return;
  }
  localStorage.setItem("mmo.name", who);
  if (client.live && client.name === who) {
    client.enter(where);
  } else {
    client.connect(config.webSocket, who, where);
  }
  canvas.focus();
}

/** sendMove sends the player's position now, or when moveEvery has passed since the last. */
function sendMove(): void {
  const wait = lastMoveSent + moveEvery - performance.now();
  if (wait > 0) {
    if (moveTimer === 0) moveTimer = window.setTimeout(() => { moveTimer = 0; sendMove(); }, wait);
    return;
  }
  const me = client.players.get(client.self);
  if (!me) return;
  lastMoveSent = performance.now();
  client.move(me.x, me.y, held.size > 0);
}

/** nudge moves the player by (dx, dy) and queues the move. */
function nudge(dx: number, dy: number): void {
  const me = client.players.get(client.self);
  if (client.phase !== "in" || !me) return;
  me.x = clamp(me.x + dx);
  me.y = clamp(me.y + dy);
  dirty = true;
  sendMove();
}

function typing(t: EventTarget | null): boolean {
  return t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
}

window.addEventListener("keydown", (ev) => {
  const dir = keys[ev.code];
  if (!dir || typing(ev.target)) return;
  ev.preventDefault();
  if (!held.has(ev.code)) {
    held.add(ev.code);
    nudge(dir[0] * step, dir[1] * step);
  }
});
window.addEventListener("keyup", (ev) => {
  if (held.delete(ev.code) && held.size === 0) sendMove(); // the stop, as idle
});
window.addEventListener("blur", () => {
  if (held.size > 0) {
    held.clear();
    sendMove();
  }
});

joinButton.addEventListener("click", () => join());
nameInput.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter") join();
});
roomSelect.addEventListener("change", () => {
  if (client.live) join();
});
chatForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const msg = sayInput.value;
  if (byteLength(msg) > MAX_CHAT) {
    statusLine.textContent = `a chat is at most ${MAX_CHAT} bytes`;
    return;
  }
  if (client.say(msg)) sayInput.value = "";
});

client.onChange = () => { dirty = true; };

let lastFrame = performance.now();
function frame(now: number): void {
  const dt = Math.min(now - lastFrame, 100) / 1000;
  lastFrame = now;
  if (held.size > 0) {
    let dx = 0, dy = 0;
    for (const code of held) {
      dx += keys[code][0];
      dy += keys[code][1];
    }
    if (dx !== 0 || dy !== 0) nudge(dx * speed * dt, dy * speed * dt);
  }
  if (dirty) {
    dirty = false;
    draw();
  }
  requestAnimationFrame(frame);
}

/** draw draws the room around the player and updates the status line and the chat log. */
function draw(): void {
  const w = canvas.width, h = canvas.height;
  const me = client.players.get(client.self);
  const cx = me?.x ?? 0, cy = me?.y ?? 0; // the camera follows the player
  const scale = Math.min(w, h) / (2 * view);
  const px = (x: number) => w / 2 + (x - cx) * scale;
  const py = (y: number) => h / 2 - (y - cy) * scale;
  ctx2d.clearRect(0, 0, w, h);
  ctx2d.lineWidth = 1;
  ctx2d.strokeStyle = "#eee";
  ctx2d.beginPath();
  for (let v = Math.ceil((cx - view) / grid) * grid; v <= cx + view; v += grid) {
    ctx2d.moveTo(px(v), 0);
    ctx2d.lineTo(px(v), h);
  }
  for (let v = Math.ceil((cy - view) / grid) * grid; v <= cy + view; v += grid) {
    ctx2d.moveTo(0, py(v));
    ctx2d.lineTo(w, py(v));
  }
  ctx2d.stroke();
  ctx2d.strokeStyle = "#999"; // the room's edge
  ctx2d.strokeRect(px(-BOUND), py(BOUND), 2 * BOUND * scale, 2 * BOUND * scale);
  ctx2d.font = "11px system-ui, sans-serif";
  ctx2d.textAlign = "center";
  const dots: Dot[] = [];
  for (const p of client.players.values()) {
    const d = { id: p.id, name: p.name, px: px(p.x), py: py(p.y) };
    const self = p.id === client.self;
    ctx2d.fillStyle = self ? "#36c" : p.running ? "#c63" : "#555";
    ctx2d.beginPath();
    ctx2d.arc(d.px, d.py, self ? 6 : 4, 0, 2 * Math.PI);
    ctx2d.fill();
    ctx2d.fillText(p.name, d.px, d.py - 9);
    dots.push(d);
  }
  drawn = dots;
  if (me) {
    ctx2d.fillStyle = "#666";
    ctx2d.textAlign = "left";
    ctx2d.fillText(`(${me.x.toFixed(0)}, ${me.y.toFixed(0)})`, 6, h - 6);
  }

  const parts = [client.status];
  if (client.phase === "in") parts.push(`${client.players.size} players`);
  if (!Number.isNaN(client.rtt) && client.phase !== "closed") parts.push(`rtt ${client.rtt.toFixed(1)} ms`);
  statusLine.textContent = parts.join(" · ");

  // The log shows the lines received since the last frame, and no more
  // than the client keeps.
  const fresh = Math.min(client.chatCount - shownChat, client.chat.length);
  for (const c of client.chat.slice(client.chat.length - fresh)) {
    const li = document.createElement("li");
    li.textContent = `${c.name}: ${c.msg}`;
    if (c.from === client.self) li.className = "self";
    log.append(li);
  }
  if (fresh > 0) {
    shownChat = client.chatCount;
    while (log.childElementCount > client.chat.length) log.firstElementChild?.remove();
    log.scrollTop = log.scrollHeight;
  }
}

async function start(): Promise<void> {
  const params = new URLSearchParams(location.search);
  try {
    const res = await fetch("config.json", { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    config = (await res.json()) as PageConfig;
  } catch (err) {
    statusLine.textContent = `no configuration: ${err instanceof Error ? err.message : String(err)}`;
    return;
  }
  for (let i = 0; i < config.rooms; i++) {
    roomSelect.add(new Option(`room ${i}`, String(i)));
  }
  const room = Number(params.get("room") ?? "0");
  roomSelect.value = String(Number.isInteger(room) && room >= 0 && room < config.rooms ? room : 0);
  nameInput.value = params.get("name") ?? localStorage.getItem("mmo.name") ?? `web-${Math.floor(Math.random() * 10000)}`;
  statusLine.textContent = "not connected";
  requestAnimationFrame(frame);
  if (params.has("name")) join(); // a link that names the player joins at once
}

void start();
