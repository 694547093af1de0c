import { isLifelineError } from '@lifeline/shared';
import { validateProfile } from '@lifeline/devices';

/** The message validateProfile refuses `raw` with; throws if it is accepted. */
export function refuse(raw: unknown): string {
  try {
    validateProfile(raw, 'bad.yaml');
  } catch (e) {
    if (isLifelineError(e)) return e.message;
    throw e;
  }
  throw new Error('accepted');
}
