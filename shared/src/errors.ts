/**
 * One error class per layer with a code catalogue (after zwave-js's ZWaveError).
 * The code is in the message; `cause` is carried so logs print the chain.
 */

/** Every code the project raises. Layers own their prefix. */
export const ErrorCodes = {
  /** A configuration file or object failed validation. */
  ConfigInvalid: 'CONFIG_INVALID',
  /** A device profile failed validation or lint. */
  ProfileInvalid: 'PROFILE_INVALID',
  /** A profile named by the config does not exist. */
  ProfileNotFound: 'PROFILE_NOT_FOUND',
  /** A frame failed to decode (length, checksum, terminator). */
  FrameInvalid: 'FRAME_INVALID',
  /** A device answered with a protocol exception. */
  DeviceException: 'DEVICE_EXCEPTION',
  /** A device did not answer in time. */
  DeviceTimeout: 'DEVICE_TIMEOUT',
  /** A link (serial port, TCP socket) could not be opened or broke. */
  LinkDown: 'LINK_DOWN',
  /** A wire payload failed to decode. */
  PayloadInvalid: 'PAYLOAD_INVALID',
  /** A request to the cloud API was malformed. */
  RequestInvalid: 'REQUEST_INVALID',
  /** Missing or wrong credentials. */
  Unauthorized: 'UNAUTHORIZED',
  /** Credentials valid but the role is not enough. */
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  /** The request conflicts with the current state (e.g. acknowledging an alarm that is not unacknowledged). */
  Conflict: 'CONFLICT',
  /** Too many attempts (failed token checks, enrolments); retry later. */
  RateLimited: 'RATE_LIMITED',
  /** A device took a write but reading the point back gave another value. */
  WriteNotConfirmed: 'WRITE_NOT_CONFIRMED',
  /** The cloud's database cannot answer now (unreachable, restarting, out of disk); retry later. */
  StoreUnavailable: 'STORE_UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class LifelineError extends Error {
  /** Marker for `isLifelineError`, which must not depend on instanceof (two copies of a package). */
  readonly lifelineError = true;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(`${code}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LifelineError';
    this.details = options?.details;
  }
  /** Structured detail, e.g. the list of config errors. */
  readonly details: unknown;
}

export function isLifelineError(e: unknown, code?: ErrorCode): e is LifelineError {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as { lifelineError?: unknown }).lifelineError === true &&
    (code === undefined || (e as { code?: unknown }).code === code)
  );
}
