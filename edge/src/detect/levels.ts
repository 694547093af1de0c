/**
 * Level names as they appear in configs (`blue`..`red`) and their AlarmLevel values.
 */
import { AlarmLevel } from '@lifeline/shared';

/** The four warning colours, lowest first, as spelled in a config. */
export const levelNames = ['blue', 'yellow', 'orange', 'red'] as const;
/** A warning colour as spelled in a config. */
export type LevelName = (typeof levelNames)[number];

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
