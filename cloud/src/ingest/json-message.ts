/** A JSON message from a gateway (status, command answer), parsed and checked against its schema in one step. */
import type { TSchema } from '@sinclair/typebox';
import { schemaIssues, type ValidationIssue } from '@lifeline/shared';

/** The parsed payload (undefined if it is not JSON) and what is wrong with it (empty: it matches `schema`). */
export function jsonMessage(payload: Buffer, schema: TSchema): { value: unknown; issues: ValidationIssue[] } {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return { value: undefined, issues: [{ path: '', message: 'not JSON' }] };
  }
  return { value, issues: schemaIssues(schema, value) };
}
