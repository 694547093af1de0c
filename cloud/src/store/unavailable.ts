/**
 * Whether an error from a store call means the database cannot answer now (a
 * PostgreSQL restart or failover, an unreachable host, a full disk, a pool with
 * no connection free) rather than a fault in the request or the code. The API
 * answers these 503 STORE_UNAVAILABLE naming the cause, so an operator's screen
 * says "the database is down, retry" instead of "internal error".
 *
 *   pg / better-sqlite3 error ─▶ storeUnavailable ─▶ LifelineError(StoreUnavailable, "database unavailable: <cause>") ─▶ 503 + Retry-After
 *                                                  └▶ undefined: anything else stays a 500
 */
import { ErrorCodes, LifelineError } from '@lifeline/shared';

/** Node socket errors of a database host going away or not being there. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * SQLSTATEs of a server that cannot serve now: class 08 (connection exception), 57P01–57P03 (shut down,
 * crash recovery, starting up), 53xxx (disk full, out of memory, too many connections), 58030 (I/O error).
 */
const UNAVAILABLE_STATE = /^(08...|57P0[123]|53...|58030)$/;

/** pg's own words for a connection lost or never made (its errors carry no code). */
const PG_CONNECTION_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection terminated due to connection timeout)/;

/** SQLite result codes of a disk that is full or failing, or a database locked past the busy timeout. */
const SQLITE_CODE = /^SQLITE_(FULL|IOERR|BUSY|CANTOPEN)/;

/** The cause as an operator reads it, or undefined when `err` is not the database being unavailable. */
export function unavailableCause(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' && e.message ? e.message : code;
  // The code only: the message holds the database's address, which is no API caller's business.
  if (SOCKET_CODES.has(code)) return `cannot reach the database server (${code})`;
  if (UNAVAILABLE_STATE.test(code)) return code.startsWith('53') && /space/i.test(message) ? `out of disk space (${message})` : `${message} (SQLSTATE ${code})`;
  if (SQLITE_CODE.test(code)) return code === 'SQLITE_FULL' ? `out of disk space (${message})` : `${message} (${code})`;
  if (message === 'Query read timeout') return "no answer within the request's query budget (Query read timeout)";
  if (PG_CONNECTION_MESSAGE.test(message)) return message;
  return undefined;
}

/** `err` as a StoreUnavailable LifelineError (its cause kept) when it is one, else undefined. */
export function storeUnavailable(err: unknown): LifelineError | undefined {
  const cause = unavailableCause(err);
  return cause === undefined ? undefined : new LifelineError(ErrorCodes.StoreUnavailable, `database unavailable: ${cause}; retry in a few seconds`, { cause: err });
}
