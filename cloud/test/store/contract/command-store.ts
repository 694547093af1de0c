/** The command store's contract: commands with their answers, gateway configs. */
import { expect, it } from 'vitest';
import { contractSuite, T0, type StoreFactory } from './fixtures.js';

export function commandsContract(name: string, factory: StoreFactory): void {
  contractSuite(`store contract: ${name}: commands`, factory, (store) => {
    it('keeps commands with answers, and configs', async () => {
      const cmd = await store.commands.addCommand({ gateway: 'gw-1', type: 'alarm_ack', alarm: 7, body: { alarmId: 'x' }, requestedBy: 'ops-1', requestedAt: T0 });
      expect(cmd.status).toBe('pending');
      expect(await store.commands.answerCommand(cmd.id, true, { message: 'acknowledged' }, T0 + 5)).toBe(true);
      expect(await store.commands.answerCommand(cmd.id, false, { message: 'again' }, T0 + 6)).toBe(false);
      const [listed] = await store.commands.listCommands({ alarm: 7, limit: 5 });
      expect(listed).toMatchObject({ id: cmd.id, status: 'done', answer: { message: 'acknowledged' }, answeredAt: T0 + 5, body: { alarmId: 'x' } });
      expect(await store.commands.listCommands({ gateway: 'other', limit: 5 })).toEqual([]);

      expect(await store.commands.getConfig('gw-1')).toMatchObject({ running: null, desired: null, answer: null });
      await store.commands.setRunningConfig('gw-1', { gateway: { id: 'gw-1' } }, T0);
      await store.commands.setDesiredConfig('gw-1', { gateway: { id: 'gw-1', name: 'new' } }, 'tech', cmd.id, T0 + 1);
      await store.commands.setConfigAnswer('gw-1', { ok: false, errors: ['x'] }, T0 + 2);
      expect(await store.commands.getConfig('gw-1')).toEqual({
        gateway: 'gw-1', running: { gateway: { id: 'gw-1' } }, runningTs: T0, desired: { gateway: { id: 'gw-1', name: 'new' } }, desiredTs: T0 + 1,
        desiredBy: 'tech', desiredCommand: cmd.id, answer: { ok: false, errors: ['x'] }, answerTs: T0 + 2,
      });
    });
  });
}
