import { describe, expect, it } from 'vitest';
import { PacketSizeGuard } from './packet-guard.js';

/** An MQTT packet as the spec frames it: type byte, remaining length (base-128 varint), body. */
function frame(typeByte: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([typeByte, ...len]), body]);
}
const topic = Buffer.from('lifeline/gw/up/telemetry');
/** A QoS 1 PUBLISH: topic length, topic, packet id, payload. */
const publish = (bytes: number) => frame(0x32, Buffer.concat([Buffer.from([0, topic.length]), topic, Buffer.from([0, 1]), Buffer.alloc(bytes, 0x80)]));
const ping = () => frame(0xc0, Buffer.alloc(0));

describe('PacketSizeGuard', () => {
  it('lets packets within the limit pass, however the stream is cut', () => {
    const stream = Buffer.concat([publish(10), ping(), publish(200), publish(16_000), ping()]);
    for (const cut of [1, 2, 3, 7, 1000, stream.length]) {
      const g = new PacketSizeGuard(16_100);
      for (let i = 0; i < stream.length; i += cut) expect(g.feed(stream.subarray(i, i + cut))).toBeUndefined();
    }
  });

  it('names the first packet over the limit as soon as its length is read, before its body', () => {
    const big = publish(20_000);
    const g = new PacketSizeGuard(16_000);
    expect(g.feed(Buffer.concat([publish(100), ping()]))).toBeUndefined();
    // Only the fixed header (type byte + 3 length bytes) of the big one has arrived.
    expect(g.feed(big.subarray(0, 4))).toBe(big.length - 4);
  });

  it('reads a length split across chunks', () => {
    const big = publish(3_000_000); // 4 length bytes
    const g = new PacketSizeGuard(1_048_576);
    expect(g.feed(big.subarray(0, 2))).toBeUndefined();
    expect(g.feed(big.subarray(2, 3))).toBeUndefined();
    expect(g.feed(big.subarray(3, 5))).toBe(big.length - 5);
  });
});
