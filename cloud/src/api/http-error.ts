/** A 4xx error the API's error handler answers as given: {error: code, message, details?}. */
export function httpError(status: number, code: string, message: string, details?: unknown): Error {
  return Object.assign(new Error(message), { statusCode: status, code, details });
}
