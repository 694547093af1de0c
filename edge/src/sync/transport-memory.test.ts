/**
 * mqtt-packet caches the length header of each packet length it writes; with Node's Buffer pool each cached
 * header kept an 8 KB pool slab alive (issue #18: the soak's creeping external memory). After
 * unpoolSmallBuffers() the headers own their few bytes. The control half shows the test can see the pinning.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { unpoolSmallBuffers } from './transport.js';

// mqtt-packet as mqtt.js itself loads it (a dependency of mqtt's, not of ours).
const mqttPacket = createRequire(createRequire(import.meta.url).resolve('mqtt'))('mqtt-packet') as {
  writeToStream(packet: object, stream: object, opts?: { writeCache?: boolean }): boolean;
};

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const poolSize = Buffer.poolSize;
afterAll(() => void (Buffer.poolSize = poolSize));

/** ArrayBuffer bytes still held after publishing one packet of each payload length, with garbage in between. */
function heldAfterPublishing(lengths: number[]): number {
  // A stream that keeps nothing it is given (a Writable would buffer the chunks until its next tick).
  const sink = { write: () => true, cork() {}, uncork() {}, destroy() {} };
  gc();
  const before = process.memoryUsage().arrayBuffers;
  for (const n of lengths) {
    mqttPacket.writeToStream({ cmd: 'publish', topic: 't', payload: Buffer.alloc(n), qos: 0, dup: false, retain: false }, sink, { writeCache: false }); // as the agent's client does
    for (let i = 0; i < 512; i++) Buffer.allocUnsafe(16); // a slab's worth of other small Buffers, soon garbage
  }
  gc();
  return process.memoryUsage().arrayBuffers - before;
}

describe('small Buffers outside the shared pool', () => {
  it('keep mqtt-packet cached length headers from pinning 8 KB pool slabs', () => {
    heldAfterPublishing([10]); // mqtt-packet's one-time set-up, outside both measurements
    unpoolSmallBuffers();
    const unpooled = heldAfterPublishing(Array.from({ length: 300 }, (_, i) => 1000 + i));
    Buffer.poolSize = poolSize;
    const pooled = heldAfterPublishing(Array.from({ length: 300 }, (_, i) => 2000 + i));
    // 300 new lengths: pooled, ~300 × 8 KB held (one slab per header at worst); unpooled, a few bytes each.
    expect(pooled).toBeGreaterThan(1_500_000);
    expect(unpooled).toBeLessThan(100_000);
  });
});
