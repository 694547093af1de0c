/**
 * The anomaly detector options the NAB bench runs with: none, i.e. the defaults of
 * edge/src/detect/anomaly.ts (chosen by the cross-validation described in
 * docs/detection-results.md).
 */
import type { NabDetectorOptions } from './_nab.js';

export const NAB_OPTIONS: NabDetectorOptions = {};
