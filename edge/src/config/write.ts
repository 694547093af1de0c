/**
 * Writing files that hold secrets (gateway.yaml with the MQTT password,
 * credentials): beside the target with mode 0600, fsynced, then renamed over
 * it, so a crash never leaves half a file and no other local user can read the
 * secret, not even for a moment.
 */
import { chmodSync, closeSync, copyFileSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Mode of every file the edge writes that may hold a secret. */
export const SECRET_FILE_MODE = 0o600;

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every platform lets a directory be opened; the rename is still atomic.
  }
}

/** Replace `file` with `text` atomically, mode 0600. */
export function writeSecretFile(file: string, text: string): void {
  const tmp = `${file}.new`;
  try {
    unlinkSync(tmp); // a leftover of a crash may have another mode: start afresh
  } catch {
    /* none */
  }
  const fd = openSync(tmp, 'wx', SECRET_FILE_MODE);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, SECRET_FILE_MODE); // umask can only take bits away; this says exactly 0600
  renameSync(tmp, file);
  fsyncDir(dirname(file));
}

/** Copy `from` to `to` atomically, mode 0600. */
export function copySecretFile(from: string, to: string): void {
  const tmp = `${to}.new`;
  copyFileSync(from, tmp);
  chmodSync(tmp, SECRET_FILE_MODE);
  renameSync(tmp, to);
  fsyncDir(dirname(to));
}
