/** One form field per model input, built from the model's own description (`inputs`). */
import type { InputSpec } from './api-types.ts';
import { el, humanize, type Child, type Props } from './dom.ts';

export interface Field {
  spec: InputSpec;
  input: HTMLInputElement;
  wrap: HTMLDivElement;
  error: HTMLSpanElement;
}

export type InputRecord = Record<string, string | number>;

// The model reads timestamps as UTC wall-clock time, so the datetime-local value is UTC too.
export function isoToInput(iso: string | number | null | undefined, endOfDay: boolean): string {
  if (iso === undefined || iso === null || iso === '') return '';
  let s = typeof iso === 'number' ? new Date(iso).toISOString() : String(iso);
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return s + (endOfDay ? 'T23:59' : 'T00:00');
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(s)) s += 'Z';
  const d = new Date(s);
  if (isNaN(d.getTime())) return '';
  const out = d.toISOString();
  return out.slice(17, 19) === '00' ? out.slice(0, 16) : out.slice(0, 19);
}

export function inputToIso(value: string): string {
  const d = new Date(value + 'Z');
  return isNaN(d.getTime()) ? value : d.toISOString();
}

const choices = (spec: InputSpec): string[] =>
  Array.isArray(spec.categories) && spec.categories.length
    ? spec.categories
    : Array.isArray(spec.allowed)
      ? spec.allowed
      : [];

function wantsUppercase(spec: InputSpec): boolean {
  if (spec.type !== 'category') return false;
  if (choices(spec).length) return choices(spec).every((c) => String(c) === String(c).toUpperCase());
  return typeof spec.pattern === 'string' && spec.pattern.includes('A-Z') && !spec.pattern.includes('a-z');
}

function hintFor(spec: InputSpec): string {
  const range = (lo: unknown, hi: unknown) =>
    lo !== undefined && hi !== undefined
      ? lo + ' – ' + hi
      : lo !== undefined
        ? '≥ ' + lo
        : hi !== undefined
          ? '≤ ' + hi
          : '';
  switch (spec.type) {
    case 'timestamp':
      return range(spec.min, spec.max);
    case 'integer':
      return ['whole number', range(spec.min, spec.max)].filter(Boolean).join(' · ');
    case 'number':
      return range(spec.min, spec.max);
    default:
      if (choices(spec).length) return choices(spec).length + ' known values — type to search';
      return spec.pattern ? 'format ' + spec.pattern : '';
  }
}

export function toInputValue(spec: InputSpec, value: string | number | null | undefined): string {
  if (value === undefined || value === null) return '';
  return spec.type === 'timestamp' ? isoToInput(value, false) : String(value);
}

export function clearFieldError(field: Field): void {
  field.input.removeAttribute('aria-invalid');
  field.wrap.classList.remove('invalid');
  field.error.textContent = '';
}

export function buildField(spec: InputSpec, index: number, carried: string | undefined): Field {
  const plain = 'f-' + String(spec.name).replace(/[^A-Za-z0-9_-]/g, '_');
  const id = document.getElementById(plain) ? plain + '-' + index : plain;
  const attrs: Props = {
    id,
    name: spec.name,
    required: spec.required !== false,
    'aria-describedby': id + '-hint ' + id + '-err',
  };
  if (spec.type === 'timestamp') {
    Object.assign(attrs, {
      type: 'datetime-local',
      min: isoToInput(spec.min, false) || null,
      max: isoToInput(spec.max, true) || null,
    });
    if (String(isoToInput(spec.default, false)).length > 16) attrs.step = 1;
  } else if (spec.type === 'number' || spec.type === 'integer') {
    Object.assign(attrs, {
      type: 'number',
      inputmode: spec.type === 'integer' ? 'numeric' : 'decimal',
      min: spec.min,
      max: spec.max,
      step: spec.type === 'integer' ? 1 : 'any',
    });
  } else {
    Object.assign(attrs, { type: 'text', autocomplete: 'off', spellcheck: 'false' });
  }
  const input = el('input', attrs);
  input.value = carried !== undefined ? carried : toInputValue(spec, spec.default);
  const label = el('label', { for: id }, [
    humanize(spec.name) + (spec.type === 'timestamp' ? ' (UTC)' : ''),
    spec.required !== false ? el('span', { class: 'req', 'aria-hidden': 'true', text: '*' }) : null,
  ]);
  const children: Child[] = [label, input];
  if (choices(spec).length) {
    input.setAttribute('list', id + '-list');
    children.push(
      el(
        'datalist',
        { id: id + '-list' },
        choices(spec).map((c) => el('option', { value: c })),
      ),
    );
  }
  const error = el('span', { class: 'ferr', id: id + '-err' });
  children.push(el('span', { class: 'hint', id: id + '-hint', text: hintFor(spec) }), error);
  const field: Field = { spec, input, wrap: el('div', { class: 'field' }, children), error };
  const upper = wantsUppercase(spec);
  input.addEventListener('input', () => {
    if (upper && input.value !== input.value.toUpperCase()) {
      const [start, end] = [input.selectionStart, input.selectionEnd];
      input.value = input.value.toUpperCase();
      input.setSelectionRange(start, end);
    }
    clearFieldError(field);
  });
  return field;
}

/** The typed values of the filled-in fields (empty ones are left out for the server's defaults). */
export function readRecord(fields: readonly Field[]): InputRecord {
  const record: InputRecord = {};
  for (const f of fields) {
    const raw = f.input.value.trim();
    if (raw === '') continue;
    if (f.spec.type === 'number' || f.spec.type === 'integer')
      record[f.spec.name] = Number.isFinite(Number(raw)) ? Number(raw) : raw;
    else if (f.spec.type === 'timestamp') record[f.spec.name] = inputToIso(raw);
    else record[f.spec.name] = raw;
  }
  return record;
}
