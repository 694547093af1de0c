/**
 * Reads only the MQTT fixed headers of a client's byte stream, so the broker
 * can drop a client that announces an oversized packet before the packet is
 * buffered (aedes's parser holds a whole packet in memory, up to 256 MB).
 *
 *   socket bytes ─▶ [type byte][remaining length: 1..4 varint bytes][remaining bytes…] ─▶ next header
 *                                   └─ over maxRemaining? ─▶ the caller drops the client
 *
 * Pure: fed chunk by chunk, in order, as they arrive.
 */

/** Watches the fixed headers of an MQTT byte stream for a packet larger than allowed. */
export class PacketSizeGuard {
  /** Bytes of the current packet's body still to pass over. */
  private skip = 0;
  /** Inside a remaining-length varint (after the type byte). */
  private inLength = false;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  /** A malformed length was seen: the MQTT parser refuses the stream itself, we stop looking. */
  private broken = false;

  /** `maxRemaining`: the largest remaining length (variable header + payload) allowed. */
  constructor(readonly maxRemaining: number) {}

  /** Feed the next bytes; returns the remaining length of the first packet over the limit, else undefined. */
  feed(chunk: Uint8Array): number | undefined {
    let i = 0;
    while (i < chunk.length && !this.broken) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      const b = chunk[i++];
      if (!this.inLength) {
        // The type-and-flags byte: the length follows.
        this.inLength = true;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (b & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (b & 0x80) {
        if (this.lengthBytes === 4) this.broken = true;
        continue;
      }
      this.inLength = false;
      if (this.length > this.maxRemaining) return this.length;
      this.skip = this.length;
    }
    return undefined;
  }
}
