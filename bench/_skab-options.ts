/**
 * The multivariate detector options the SKAB bench runs with: none, i.e. the
 * defaults of edge/src/detect/multivariate.ts, which are the values chosen by the
 * cross-validation in bench/_skab-cv.ts (see docs/detection-results.md). Kept as a
 * file so a tuning run can pin other values without touching the detector.
 */
import type { SkabDetectorOptions } from './_skab.js';

export const SKAB_OPTIONS: SkabDetectorOptions = {};
