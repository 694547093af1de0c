/**
 * The floors inside edge (../shared/STYLE.md, "Rooms and floors"): an import
 * in edge/src runs down or across a floor, never up.
 *
 *   entry     cli, index                             what a user or another package calls
 *     ↑
 *   agent     agent                                  wiring only
 *     ↑
 *   features  poller, alarms, actions, lighting,     Extensions and their settings
 *             sync, config
 *     ↑
 *   ground    links, detect, buffer, events,         drivers, pure detectors, storage, the bus,
 *             schedule, log                          pure time math (sun, zones)
 *
 * A room is a folder of edge/src, or a file at its top named without its
 * extension (log.ts is `log`). A room on no floor fails too, so a new folder
 * is placed on purpose. Tests are left out: they may wire anything.
 */
import { readFileSync } from 'node:fs';
import { posix, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, sources } from './imports.js';

const src = resolve(import.meta.dirname, '../edge/src');

/** Lowest floor first; each lists its rooms. */
const floors: readonly { name: string; rooms: readonly string[] }[] = [
  { name: 'ground', rooms: ['links', 'detect', 'buffer', 'events', 'schedule', 'log'] },
  { name: 'features', rooms: ['poller', 'alarms', 'actions', 'lighting', 'sync', 'config'] },
  { name: 'agent', rooms: ['agent'] },
  { name: 'entry', rooms: ['cli', 'index'] },
];

const roomOf = (path: string) => path.split('/')[0].replace(/\.(ts|js)$/, '');
const floorOf = (room: string) => floors.findIndex((f) => f.rooms.includes(room));
const label = (room: string) => `${room} (${floors[floorOf(room)]?.name ?? 'on no floor'})`;

/** What breaks the floors in these files (paths relative to edge/src, '/'-separated). */
function violations(files: readonly { path: string; text: string }[]): string[] {
  const bad: string[] = [];
  for (const { path, text } of files) {
    const room = roomOf(path);
    if (floorOf(room) < 0) {
      bad.push(`${path}: ${label(room)}`);
      continue;
    }
    for (const spec of importsOf(text)) {
      if (!spec.startsWith('.')) continue; // packages: the ladder test's business
      const target = posix.normalize(posix.join(posix.dirname(path), spec));
      if (target.startsWith('..')) continue; // outside edge/src: the ladder test's business
      const to = roomOf(target);
      if (floorOf(to) < 0 || floorOf(to) > floorOf(room)) bad.push(`${path} on ${label(room)} imports ${spec} on ${label(to)}`);
    }
  }
  return bad;
}

describe('floors inside edge', () => {
  it('catches an import that runs up, and a room on no floor (so the check below can fail)', () => {
    expect(
      violations([
        { path: 'poller/poller.ts', text: `import type { Agent } from '../agent/agent.js';` },
        { path: 'links/index.ts', text: `export type { Bus } from '../config/schema.js';` },
        { path: 'annex/x.ts', text: `import '../log.js';` },
        { path: 'log.ts', text: `const m = await import('./annex/y.js');` },
        { path: 'events/event-bus.ts', text: `import type { Logger } from '../log.js';\nimport type { Sync } from '../sync/sync.js';` },
      ]),
    ).toEqual([
      'poller/poller.ts on poller (features) imports ../agent/agent.js on agent (agent)',
      'links/index.ts on links (ground) imports ../config/schema.js on config (features)',
      'annex/x.ts: annex (on no floor)',
      'log.ts on log (ground) imports ./annex/y.js on annex (on no floor)',
      'events/event-bus.ts on events (ground) imports ../sync/sync.js on sync (features)',
    ]);
  });

  it('lets an import run down or across a floor', () => {
    const text = `import { Sync } from '../sync/sync.js';\nimport '../links/index.js';\nimport './manager.js';\nimport { AlarmLevel } from '@lifeline/shared';`;
    expect(violations([{ path: 'alarms/system.ts', text }, { path: 'index.ts', text: `export * from './agent/agent.js';` }])).toEqual([]);
  });

  it('edge/src imports no higher floor', () => {
    const files = sources(src)
      .filter((f) => !/\.test\.ts$/.test(f))
      .map((f) => ({ path: relative(src, f).split(/[\\/]/).join('/'), text: readFileSync(f, 'utf8') }));
    expect(files.length).toBeGreaterThan(50);
    const found = violations(files);
    expect(found).toEqual([]);
  });
});
