/** A JSON object (not null, not an array): what parsed YAML or JSON must be before its keys are read. */
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `v` when it is a plain object, else an empty one (for reading optional sections of untrusted input). */
export const asPlainObject = (v: unknown): Record<string, unknown> => (isPlainObject(v) ? v : {});

/** `raw[key]` when both are plain objects, else an empty object (a params.yaml section, say). */
export const sectionOf = (raw: unknown, key: string): Record<string, unknown> =>
  isPlainObject(raw) ? asPlainObject(raw[key]) : {};
