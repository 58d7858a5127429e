// Packet framing, as servercore frames packets on TCP and inside binary
// WebSocket messages: [size u16 LE][id u16 LE][payload], the size counting
// the 4-byte header.

/** HEADER is the bytes of a packet's header. */
export const HEADER = 4;
/** MAX_PACKET is the largest packet, header included. */
export const MAX_PACKET = 0xffff;

/** A Packet is one packet's id and payload. */
export interface Packet {
  id: number;
  payload: Uint8Array;
}

/** frame returns the packet of id and payload, header first. */
export function frame(id: number, payload: Uint8Array): Uint8Array {
  const size = HEADER + payload.length;
  if (size > MAX_PACKET) {
    throw new RangeError(`packet ${id} of ${size} bytes is larger than ${MAX_PACKET}`);
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint16(0, size, true);
  view.setUint16(2, id, true);
  out.set(payload, HEADER);
  return out;
}

/**
 * unframe splits one WebSocket message into its packets. A message holds
 * whole packets only: a short or oversized header, or a packet cut at the
 * end, is an error.
 */
export function unframe(data: Uint8Array): Packet[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Packet[] = [];
  for (let off = 0; off < data.length; ) {
    if (data.length - off < HEADER) {
      throw new RangeError(`${data.length - off} bytes left at the end of a message, less than a header`);
    }
    const size = view.getUint16(off, true);
    if (size < HEADER || off + size > data.length) {
      throw new RangeError(`packet of ${size} bytes at offset ${off} of a ${data.length}-byte message`);
    }
    out.push({ id: view.getUint16(off + 2, true), payload: data.subarray(off + HEADER, off + size) });
    off += size;
  }
  return out;
}
