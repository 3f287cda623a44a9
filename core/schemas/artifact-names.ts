/**
 * File names of the JSON manifests beside a stage's data (in `artifacts/prepared/`) and inside a
 * model bundle. A leaf module (no imports), so a stage can name the files without pulling their
 * schemas into its dependencies.
 */
export const FEATURE_SPEC_FILE = 'feature-spec.json';
export const PROFILE_FILE = 'reference-profile.json';
export const GOLDEN_FILE = 'golden.json';
export const BUNDLE_META_FILE = 'bundle.json';
