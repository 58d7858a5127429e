// The game client: one WebSocket session of the MMO, its packets decoded
// with the code protoc-gen-es generated from mmo.proto, and what the
// player knows of its room.

import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { frame, unframe } from "./framing";
import { ID } from "./gen/ids";
import {
  C_CHATSchema,
  C_ENTER_GAMESchema,
  C_LEAVE_GAMESchema,
  C_LOGINSchema,
  C_MOVESchema,
  MoveState,
  S_CHATSchema,
  S_DESPAWNSchema,
  S_ENTER_GAMESchema,
  S_LOGINSchema,
  S_MOVESchema,
  S_SPAWNSchema,
  type ObjectInfo,
  type PosInfo,
} from "./gen/mmo_pb";

/** BOUND is how far from a room's centre a position may lie, as rules.go says. */
export const BOUND = 1000;
/** MAX_NAME and MAX_CHAT are the longest name and chat, in UTF-8 bytes. */
export const MAX_NAME = 32;
export const MAX_CHAT = 256;
/** CHAT_LINES is how many chat lines are kept. */
const CHAT_LINES = 200;
/** rttWindow is how long a chat of one's own is waited for, for the round-trip time. */
const rttWindow = 10_000;

/** Phase is where the client is in the game's conversation. */
export type Phase = "idle" | "connecting" | "login" | "entering" | "in" | "leaving" | "out" | "closed";

/** A Player is someone in the room, the client's own player included. */
export interface Player {
  id: string; // the player id, in decimal: ids are uint64
  name: string;
  x: number;
  y: number;
  running: boolean;
}

/** A ChatLine is one chat of the room. */
export interface ChatLine {
  from: string; // the player id, in decimal
  name: string;
  msg: string;
}

const utf8 = new TextEncoder();

/** byteLength is the UTF-8 length of s. */
export function byteLength(s: string): number {
  return utf8.encode(s).length;
}

/** validName tells whether the server takes name: 1 to MAX_NAME bytes, no control characters. */
export function validName(name: string): boolean {
  const n = byteLength(name);
  return n >= 1 && n <= MAX_NAME && !/\p{Cc}/u.test(name);
}

/**
 * Client is one player's session. Its fields are read by the page (and by
 * tests, through window.mmo); onChange is called after each change.
 */
export class Client {
  phase: Phase = "idle";
  /** status is a word on how the session stands or why it ended. */
  status = "not connected";
  name = "";
  self = ""; // own player id, once logged in
  room = -1; // the room it is in, or -1
  players = new Map<string, Player>();
  chat: ChatLine[] = []; // the last CHAT_LINES chats
  chatCount = 0; // chats received in all
  /** rtt is the last round trip of a request and its answer, in ms (NaN until one). */
  rtt = NaN;
  /** onChange is called after anything above changed. */
  onChange: () => void = () => {};

  private ws?: WebSocket;
  private wantRoom = -1; // the room to be in: entered once out of the current one
  private asked = -1; // the room of the enter awaiting its answer
  private askedAt = 0; // when the login, enter or leave awaiting its answer was sent
  private chatsAt = new Map<string, number[]>(); // own chats awaiting their relay, by text

  /** connect opens a session to url and logs in as name; the player then enters room. */
  connect(url: string, name: string, room: number): void {
    this.close();
    this.name = name;
    this.wantRoom = room;
    this.setPhase("connecting", "connecting");
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.setPhase("login", "logging in");
      this.ask(C_LOGINSchema, ID.C_LOGIN, { name });
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (ws !== this.ws) return;
      if (!(ev.data instanceof ArrayBuffer)) {
        this.fail("the server sent a text message");
        return;
      }
      try {
        for (const p of unframe(new Uint8Array(ev.data))) {
          this.handle(p.id, p.payload);
        }
      } catch (err) {
        this.fail(`bad packet: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      this.onChange();
    };
    ws.onclose = (ev: CloseEvent) => {
      if (ws !== this.ws) return;
      this.ws = undefined;
      this.reset();
      const why = ev.reason ? `${ev.code} ${ev.reason}` : `${ev.code}`;
      this.setPhase("closed", this.phase === "closed" ? this.status : `disconnected (${why})`);
    };
  }

  /**
   * enter moves the player to room: it leaves the one it is in first. While
   * a login, an enter or a leave awaits its answer, the room is only noted,
   * and gone to once the answer came: the last one asked for wins.
   */
  enter(room: number): void {
    this.wantRoom = room;
    if (this.phase === "in" && room !== this.room) {
      this.leave();
    } else if (this.phase === "out") {
      this.enterWanted();
    }
  }

  /** live tells whether the session is logged in, or logging in, and not closing. */
  get live(): boolean {
    return ["login", "entering", "in", "leaving", "out"].includes(this.phase);
  }

  /** move makes (x, y) the player's position and tells the room. */
  move(x: number, y: number, running: boolean): void {
    const me = this.players.get(this.self);
    if (this.phase !== "in" || !me) return;
    me.x = clamp(x);
    me.y = clamp(y);
    me.running = running;
    this.send(C_MOVESchema, ID.C_MOVE, {
      pos: {
        objectId: BigInt(this.self),
        x: me.x,
        y: me.y,
        state: running ? MoveState.RUN : MoveState.IDLE,
      },
    });
    this.onChange();
  }

  /** say sends msg to the room; it reports whether msg was sent. */
  say(msg: string): boolean {
    const n = byteLength(msg);
    if (this.phase !== "in" || n < 1 || n > MAX_CHAT) return false;
    const sent = this.chatsAt.get(msg) ?? [];
    sent.push(performance.now());
    this.chatsAt.set(msg, sent);
    this.send(C_CHATSchema, ID.C_CHAT, { msg });
    return true;
  }

  /** close ends the session, if any. */
  close(): void {
    const ws = this.ws;
    if (!ws) return;
    this.ws = undefined;
    ws.close(1000, "bye");
    this.reset();
    this.setPhase("closed", "closed");
  }

  private handle(id: number, payload: Uint8Array): void {
    switch (id) {
      case ID.S_LOGIN: {
        const m = fromBinary(S_LOGINSchema, payload);
        this.answered();
        if (!m.success) {
          this.fail("login refused");
          return;
        }
        this.self = m.playerId.toString();
        this.enterWanted();
        return;
      }
      case ID.S_ENTER_GAME: {
        const m = fromBinary(S_ENTER_GAMESchema, payload);
        this.answered();
        if (!m.success || !m.player) {
          this.setPhase("out", `room ${this.asked} refused the player`);
          if (this.wantRoom !== this.asked) this.enterWanted(); // another was picked meanwhile
          return;
        }
        this.room = this.asked;
        this.players.clear();
        this.spawn(m.player);
        this.setPhase("in", `in room ${this.room}`);
        if (this.wantRoom !== this.room) this.leave(); // another was picked meanwhile
        return;
      }
      case ID.S_LEAVE_GAME:
        this.answered();
        this.players.clear();
        this.room = -1;
        this.setPhase("out", "out of the room");
        this.enterWanted();
        return;
      case ID.S_SPAWN:
        for (const o of fromBinary(S_SPAWNSchema, payload).players) {
          this.spawn(o);
        }
        return;
      case ID.S_DESPAWN:
        for (const oid of fromBinary(S_DESPAWNSchema, payload).objectIds) {
          this.players.delete(oid.toString());
        }
        return;
      case ID.S_MOVE: {
        const pos = fromBinary(S_MOVESchema, payload).pos;
        const p = pos && this.players.get(pos.objectId.toString());
        if (pos && p) {
          place(p, pos);
        }
        return;
      }
      case ID.S_CHAT: {
        const m = fromBinary(S_CHATSchema, payload);
        const from = m.playerId.toString();
        if (from === this.self) {
          this.chatAnswered(m.msg);
        }
        this.chat.push({ from, name: this.players.get(from)?.name ?? `#${from}`, msg: m.msg });
        this.chatCount++;
        if (this.chat.length > CHAT_LINES) {
          this.chat.splice(0, this.chat.length - CHAT_LINES);
        }
        return;
      }
      default:
        throw new Error(`unknown packet id ${id}`);
    }
  }

  private enterWanted(): void {
    if (this.wantRoom < 0) {
      this.setPhase("out", "logged in, in no room");
      return;
    }
    this.asked = this.wantRoom;
    this.setPhase("entering", `entering room ${this.asked}`);
    this.ask(C_ENTER_GAMESchema, ID.C_ENTER_GAME, { roomId: this.asked });
  }

  private leave(): void {
    this.setPhase("leaving", `leaving room ${this.room}`);
    this.ask(C_LEAVE_GAMESchema, ID.C_LEAVE_GAME, {});
  }

  private spawn(o: ObjectInfo): void {
    const p: Player = { id: o.objectId.toString(), name: o.name, x: 0, y: 0, running: false };
    if (o.pos) {
      place(p, o.pos);
    }
    this.players.set(p.id, p);
  }

  /** ask sends a request whose answer times the round trip. */
  private ask<D extends DescMessage>(schema: D, id: number, init: MessageInitShape<D>): void {
    this.askedAt = performance.now();
    this.send(schema, id, init);
  }

  private answered(): void {
    if (this.askedAt > 0) {
      this.rtt = performance.now() - this.askedAt;
      this.askedAt = 0;
    }
  }

  /** chatAnswered times an own chat by its relay, and forgets those long unanswered (dropped by the rate limit). */
  private chatAnswered(msg: string): void {
    const now = performance.now();
    const sent = this.chatsAt.get(msg);
    const at = sent?.shift();
    if (sent && sent.length === 0) this.chatsAt.delete(msg);
    if (at !== undefined) this.rtt = now - at;
    for (const [text, times] of this.chatsAt) {
      while (times.length > 0 && now - times[0] > rttWindow) times.shift();
      if (times.length === 0) this.chatsAt.delete(text);
    }
  }

  private send<D extends DescMessage>(schema: D, id: number, init: MessageInitShape<D>): void {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    this.ws.send(frame(id, toBinary(schema, create(schema, init))));
  }

  private fail(why: string): void {
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000, "client error");
    this.reset();
    this.setPhase("closed", why);
  }

  private reset(): void {
    this.players.clear();
    this.room = -1;
    this.self = "";
    this.askedAt = 0;
    this.chatsAt.clear();
  }

  private setPhase(phase: Phase, status: string): void {
    this.phase = phase;
    this.status = status;
    this.onChange();
  }
}

function place(p: Player, pos: PosInfo): void {
  p.x = pos.x;
  p.y = pos.y;
  p.running = pos.state === MoveState.RUN;
}

/** clamp keeps v within the room, as a float, the type of a position on the wire. */
export function clamp(v: number): number {
  return Math.fround(Math.max(-BOUND, Math.min(BOUND, v)));
}
