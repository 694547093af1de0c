/**
 * Level names as they appear in configs (`blue`..`red`) and their AlarmLevel values.
 */
import { AlarmLevel } from '@lifeline/shared';
import type { LevelName } from '@lifeline/shared/config';

// The names are part of the config contract (shared); re-exported for edge's config slices.
export { levelNames, type LevelName } from '@lifeline/shared/config';

/** `yellow` → AlarmLevel.Yellow. */
export function levelOf(name: LevelName): AlarmLevel {
  switch (name) {
    case 'blue':
      return AlarmLevel.Blue;
    case 'yellow':
      return AlarmLevel.Yellow;
    case 'orange':
      return AlarmLevel.Orange;
    case 'red':
      return AlarmLevel.Red;
  }
}

/** AlarmLevel.Orange → `orange (II)`, for causes an operator reads. */
export function describeLevel(level: AlarmLevel): string {
  switch (level) {
    case AlarmLevel.Normal:
      return 'normal';
    case AlarmLevel.Blue:
      return 'blue (IV)';
    case AlarmLevel.Yellow:
      return 'yellow (III)';
    case AlarmLevel.Orange:
      return 'orange (II)';
    case AlarmLevel.Red:
      return 'red (I)';
  }
}
