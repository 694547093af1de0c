/**
 * An SD card that fails the way a roadside box's does: a small ext4 image loop-mounted with
 * `errors=remount-ro`; `trip()` makes ext4 take its own error path (the kernel remounts it
 * read-only) and `reboot()` does what a reboot does (unmount, fsck, mount read-write).
 *
 * Needs root (mount, losetup through mount -o loop) and e2fsprogs. Without them a test
 * fails with a clear message; it never skips.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** An ext4 image loop-mounted with errors=remount-ro; `trip()` makes the kernel remount it read-only. */
export interface Card {
  dir: string;
  trip(): void;
  /** What a reboot does: unmount, fsck, mount again read-write. */
  reboot(): void;
}
const cards: { image: string; dir: string; mounted: boolean }[] = [];

export function mountCard(): Card {
  const dir = join(tmpdir(), `lifeline-readonly-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const card = { image: `${dir}.img`, dir, mounted: false };
  cards.push(card);
  mkdirSync(dir, { recursive: true });
  const mount = () => {
    execFileSync('mount', ['-o', 'loop,errors=remount-ro', card.image, dir], { stdio: 'pipe' });
    card.mounted = true;
  };
  try {
    execFileSync('truncate', ['-s', '16M', card.image]);
    execFileSync('mkfs.ext4', ['-q', '-F', card.image], { stdio: 'pipe' });
    mount();
  } catch (e) {
    throw new Error(
      `could not loop-mount an ext4 image at ${dir} (${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}); ` +
        'run the tests as root (CI does) with mkfs.ext4 (e2fsprogs)',
    );
  }
  const device = () => basename(execFileSync('findmnt', ['-no', 'SOURCE', dir], { encoding: 'utf8' }).trim());
  return {
    dir,
    trip: () => writeFileSync(`/sys/fs/ext4/${device()}/trigger_fs_error`, '1'),
    reboot: () => {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      card.mounted = false;
      // e2fsck exits 1 when it fixed something (the error flag the trip left): that is the point.
      try {
        execFileSync('e2fsck', ['-fy', card.image], { stdio: 'pipe' });
      } catch (e) {
        if ((e as { status?: number }).status !== 1) throw e;
      }
      mount();
    },
  };
}

/** Unmounts and removes every card made (call in afterAll). */
export function unmountCards(): void {
  for (const c of cards) {
    if (c.mounted) execFileSync('umount', ['-l', c.dir], { stdio: 'pipe' });
    rmSync(c.dir, { recursive: true, force: true });
    rmSync(c.image, { force: true });
  }
  cards.length = 0;
}
