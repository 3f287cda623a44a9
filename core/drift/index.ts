/** Drift detection: statistics, binning against the reference profile, verdicts, synthetic drift. */
export {
  binAgainst,
  addNumeric,
  categoryBucket,
  categoricalVectors,
  numericVectors,
  OTHER_BUCKET,
  UNSEEN_BUCKET,
  type CategoricalWindow,
  type NumericWindow,
} from './binning.ts';
export { chiSquaredHomogeneity } from './chi2.ts';
export {
  chooseMethod,
  detectDrift,
  resolveDriftParams,
  summarise,
  type CurrentWindow,
  type DatasetDrift,
  type DriftMethod,
  type FeatureDrift,
  type ReferenceLike,
} from './detect.ts';
export {
  binArea,
  binWidthsInStd,
  fleetDrift,
  fleetDriftScore,
  minFleetValues,
  FLEET_DRIFT_RULES,
  isPredictionTrack,
  PREDICTION_TRACK,
  PREDICTION_TRACK_REGEX,
  shares,
  sharesBelow,
  type FleetDrift,
  type FleetDriftTrack,
  type FleetFeatureDrift,
} from './fleet.ts';
export { jensenShannonDistance, populationStabilityIndex, PSI_EPSILON } from './divergence.ts';
export { ksAsymptoticPValue, ksBinned, ksExactPValue, ksStatistic, ksTwoSample, type KsMethod } from './ks.ts';
export {
  categoricalSampleDrift,
  columnValues,
  driftReport,
  driftReportTables,
  numericSampleDrift,
  type FeatureKind,
  type RawValues,
} from './report.ts';
export type { TestResult } from './result.ts';
export { chiSquaredSurvival, gammaQ, kolmogorovSurvival, logGamma } from './special.ts';
export { changeCategoryMix, injectMissing, normalSample, scaleNumeric, shiftNumeric } from './synthetic.ts';
export {
  MIN_NORMALISING_STD,
  normaliseByStd,
  populationStd,
  wassersteinBinned,
  wassersteinSamples,
  type OuterMeans,
} from './wasserstein.ts';
