import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, LifelineError } from '@lifeline/shared';
import { ModbusTcpLink, request, RtuLink } from '../links/index.js';
import { FakeStream } from '../../test/links/fake-stream.js';
import { commFailure, likelyCause, parseHostPort, parseParity } from './field.js';
import { parseUnits } from './scan.js';

const tcp = new ModbusTcpLink({ host: '127.0.0.1', port: 1 });
const serial = new RtuLink({ stream: new FakeStream(() => null) });
const err = (code: (typeof ErrorCodes)[keyof typeof ErrorCodes], message: string) => new LifelineError(code, message);

describe('field command helpers', () => {
  it('parses host:port, parity and unit lists, refusing bad ones by name', () => {
    expect(parseHostPort('10.0.0.5:502')).toEqual({ host: '10.0.0.5', port: 502 });
    expect(parseHostPort('[::1]:1502')).toEqual({ host: '::1', port: 1502 });
    expect(() => parseHostPort('10.0.0.5')).toThrow(/expected host:port .* got "10.0.0.5"/);
    expect(() => parseHostPort('h:70000')).toThrow(/1\.\.65535/);
    expect(parseParity('E')).toBe('even');
    expect(() => parseParity('mark')).toThrow(/none, even or odd, got "mark"/);
    expect(parseUnits('1-3,7,5-6')).toEqual([1, 2, 3, 5, 6, 7]);
    expect(() => parseUnits('5-2')).toThrow(/got "5-2"/);
    expect(() => parseUnits('1-300')).toThrow(/0\.\.255/);
  });

  it('names a likely cause for each kind of comm failure', () => {
    expect(likelyCause(err(ErrorCodes.DeviceTimeout, 'no reply'), serial)).toMatch(/baud rate or parity; A\/B wires swapped/);
    expect(likelyCause(err(ErrorCodes.DeviceTimeout, 'no reply'), tcp)).toMatch(/wrong unit id for this gateway/);
    expect(likelyCause(err(ErrorCodes.DeviceTimeout, 'no reply (partial reply: 3 bytes)'), serial)).toMatch(/cut short/);
    expect(likelyCause(err(ErrorCodes.LinkDown, 'cannot open: No such file or directory'), serial)).toMatch(/unplugged or the path is wrong/);
    expect(likelyCause(err(ErrorCodes.LinkDown, 'cannot open: EACCES: permission denied'), serial)).toMatch(/dialout/);
    expect(likelyCause(err(ErrorCodes.FrameInvalid, 'crc: expected 0x1234, found 0x4321'), serial)).toMatch(/baud rate or parity mismatch, two devices with the same unit id/);
    expect(likelyCause(err(ErrorCodes.DeviceException, 'exception 0x02 illegal data address'), serial)).toMatch(/profile does not match/);
  });

  it('turns a refused connection into one line: what, where, likely cause', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const link = new ModbusTcpLink({ host: '127.0.0.1', port });
    try {
      await request(link, 1, { functionCode: 3, address: 0, quantity: 1 });
      expect.unreachable();
    } catch (e) {
      const line = commFailure(e, link);
      expect(line.code).toBe(ErrorCodes.LinkDown);
      expect(line.message).toMatch(new RegExp(`^LINK_DOWN: tcp 127\\.0\\.0\\.1:${port}: cannot open: .*ECONNREFUSED.*; likely cause: nothing listens there`));
      expect(line.message).not.toContain('\n');
    } finally {
      await link.close();
    }
  });
});
