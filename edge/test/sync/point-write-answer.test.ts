/** A point_write command's answer carries the read-back: done when the device holds the value, failed with both values when not. */
import { describe, expect, it } from 'vitest';
import { CommandAnswerSchema, ErrorCodes, LifelineError, parseJsonIssues } from '@lifeline/shared';
import { EdgeBuffer } from '../../src/buffer/buffer.js';
import { CommandHandler, type CommandTarget } from '../../src/sync/command-handler.js';
import { testLog } from '../../../test/helpers.js';

const GW = 'gw-pw';

function handler(writePoint: CommandTarget['writePoint']) {
  const buffer = new EdgeBuffer(':memory:');
  const target: CommandTarget = {
    ackAlarm: () => ({ changed: false, message: '' }),
    shelveAlarm: () => ({ changed: false, message: '' }),
    writePoint,
    applyConfig: async () => ({ ok: false, errors: [] }),
    runningConfig: () => ({}),
  };
  return { buffer, h: new CommandHandler(GW, buffer, target, testLog) };
}

const write = (id: string, value: number) => JSON.stringify({ id, gateway: GW, ts: Date.now(), by: 'ops-1', type: 'point_write', device: 'lamp-1', point: 'dimming', value, expiresAt: Date.now() + 60_000 });

/** The answer as the cloud parses it: the wire schema must accept it. */
function onWire(a: unknown) {
  const { value, issues } = parseJsonIssues(CommandAnswerSchema, JSON.stringify(a));
  expect(issues).toEqual([]);
  return value;
}

describe('point_write answers', () => {
  it('answers done with the value read back', async () => {
    const { h, buffer } = handler(async () => ({ readBack: 75 }));
    const a = onWire(await h.handle(write('1', 75)));
    expect(a).toMatchObject({ id: '1', ok: true, status: 'done', readBack: 75, message: 'wrote 75 to lamp-1.dimming; read back 75' });
    expect(buffer.commandLog()[0].answer).toMatchObject({ readBack: 75 });
    buffer.close();
  });

  it('answers failed with both values when the device holds another value, and without readBack on a write error', async () => {
    const mismatch = handler(async () => {
      throw new LifelineError(ErrorCodes.WriteNotConfirmed, 'write lamp-1.dimming: wrote 70000, read back 4464', { details: { written: 70000, readBack: 4464 } });
    });
    const a = onWire(await mismatch.h.handle(write('2', 70000)));
    expect(a).toMatchObject({ ok: false, status: 'failed', readBack: 4464 });
    expect((a as { message: string }).message).toMatch(/wrote 70000, read back 4464/);
    mismatch.buffer.close();

    const down = handler(async () => {
      throw new LifelineError(ErrorCodes.LinkDown, 'write lamp-1.dimming = 5: connection refused');
    });
    const b = onWire(await down.h.handle(write('3', 5)));
    expect(b).toMatchObject({ ok: false, status: 'failed' });
    expect(b).not.toHaveProperty('readBack');
    down.buffer.close();
  });

  it('leaves out a read-back JSON cannot carry (NaN from a bad BCD register)', async () => {
    const { h, buffer } = handler(async () => ({ readBack: Number.NaN }));
    const a = onWire(await h.handle(write('4', 5)));
    expect(a).toMatchObject({ ok: true, status: 'done' });
    expect(a).not.toHaveProperty('readBack');
    buffer.close();
  });
});
