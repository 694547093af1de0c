import { describe, expect, it } from 'vitest';
import { unavailableCause } from './unavailable.js';

describe('unavailableCause', () => {
  it('names a database away or out of disk, and nothing else', () => {
    const err = (code: string, message: string) => Object.assign(new Error(message), { code });
    expect(unavailableCause(err('ECONNREFUSED', 'connect ECONNREFUSED 10.0.3.7:5432'))).toBe('cannot reach the database server (ECONNREFUSED)');
    expect(unavailableCause(err('57P01', 'terminating connection due to administrator command'))).toBe('terminating connection due to administrator command (SQLSTATE 57P01)');
    expect(unavailableCause(err('53100', 'could not extend file "base/16384/24601": No space left on device'))).toBe(
      'out of disk space (could not extend file "base/16384/24601": No space left on device)',
    );
    expect(unavailableCause(err('SQLITE_FULL', 'database or disk is full'))).toBe('out of disk space (database or disk is full)');
    expect(unavailableCause(new Error('Connection terminated unexpectedly'))).toBe('Connection terminated unexpectedly');
    expect(unavailableCause(new Error('Query read timeout'))).toBe("no answer within the request's query budget (Query read timeout)");
    // A fault of the query or the code stays a 500.
    for (const e of [err('23505', 'duplicate key value violates unique constraint'), err('42P01', 'relation "x" does not exist'), new TypeError('x is undefined'), 'text', null])
      expect(unavailableCause(e)).toBeUndefined();
  });
});
