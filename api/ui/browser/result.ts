/** The result card and the list of the last predictions. */
import type { FieldProblem, ModelInfo, PredictAnswer, Prediction } from './api-types.ts';
import { byId, el, fmtUtc, pct } from './dom.ts';
import { clearFieldError, toInputValue, type Field, type InputRecord } from './fields.ts';

export interface Answer {
  name: string;
  version: number | undefined;
  summary: { text: string; tone: string };
}

function labelText(pred: Prediction, positive: boolean, info: ModelInfo | null): string {
  if (typeof pred.label_text === 'string' && pred.label_text) return pred.label_text;
  const hints = info?.label_text;
  const key = pred.label !== undefined ? String(Number(pred.label)) : positive ? '1' : '0';
  if (hints && typeof hints[key] === 'string') return hints[key];
  return positive ? 'positive' : 'negative';
}

export function showResult(
  body: PredictAnswer,
  ms: number,
  note: string,
  info: ModelInfo | null,
  fallbackName: string,
): Answer {
  const p = body.prediction ?? {};
  const name = body.model_name || info?.name || fallbackName;
  const out: Node[] = [];
  if (note) out.push(el('p', { class: 'note', text: note }));
  out.push(
    el('p', { class: 'answered', id: 'answered' }, [
      'answered by ',
      el('strong', { text: name + ' v' + body.model_version }),
    ]),
  );
  let summary: Answer['summary'];
  if (p.probabilities && typeof p.label === 'string') {
    // Multi-class: the label, then one bar per class, most likely first.
    const rows = Object.entries(p.probabilities).sort((a, b) => b[1] - a[1]);
    out.push(
      el('p', { class: 'verdict pos', id: 'verdict', text: p.label }),
      el(
        'ul',
        { class: 'classes', id: 'probabilities' },
        rows.map(([name, q]) => {
          const fill = el('div', { class: 'fill ' + (name === p.label ? 'pos' : 'neg') });
          fill.style.width = Math.max(0, Math.min(1, q)) * 100 + '%';
          return el('li', { 'data-class': name }, [
            el('span', { class: 'meta', text: name + ' ' + pct(q) }),
            el('div', { class: 'bar', 'aria-hidden': 'true' }, [fill]),
          ]);
        }),
      ),
    );
    summary = { text: p.label + ' · ' + pct(p.probabilities[p.label] ?? 0), tone: 'pos' };
  } else if (typeof p.probability === 'number') {
    // The API labels every probability (its one decision rule, core/model/decision.ts); the page shows that label.
    const positive = Number(p.label) === 1;
    const words = labelText(p, positive, info);
    const tone = positive ? 'pos' : 'neg';
    const fill = el('div', { class: 'fill ' + tone });
    fill.style.width = Math.max(0, Math.min(1, p.probability)) * 100 + '%';
    const bar = el('div', { class: 'bar', 'aria-hidden': 'true' }, [fill]);
    if (typeof p.threshold === 'number') {
      const mark = el('div', { class: 'mark', title: 'threshold' });
      mark.style.left = p.threshold * 100 + '%';
      bar.append(mark);
    }
    out.push(
      el('p', { class: 'verdict ' + tone, id: 'verdict', text: words }),
      el('div', { class: 'prob' }, [
        el('span', { class: 'pct', id: 'probability', text: pct(p.probability) }),
        el('span', { class: 'meta', text: 'probability' }),
      ]),
      bar,
      el('div', {
        class: 'meta',
        text:
          typeof p.threshold === 'number' ? 'decision threshold ' + pct(p.threshold) + ' (the mark on the bar)' : '',
      }),
    );
    summary = { text: pct(p.probability) + ' · ' + words, tone };
  } else if (typeof p.value === 'number') {
    const v = p.value.toLocaleString(undefined, { maximumFractionDigits: 3 });
    out.push(el('p', { class: 'meta', text: 'predicted value' }), el('p', { class: 'value', id: 'value', text: v }));
    summary = { text: v, tone: '' };
  } else {
    out.push(el('pre', { text: JSON.stringify(p, null, 2) }));
    summary = { text: 'answered', tone: '' };
  }
  out.push(
    el('p', { class: 'small', text: 'prediction id ' + (body.prediction_id || '—') + ' · ' + Math.round(ms) + ' ms' }),
  );
  byId('result').replaceChildren(...out);
  return { name, version: body.model_version, summary };
}

export function showError(message: string, code: string | undefined, unmatched: FieldProblem[]): void {
  const box = el('div', { class: 'error', id: 'error' }, [el('p', { text: message })]);
  if (unmatched.length)
    box.append(
      el(
        'ul',
        {},
        unmatched.map((d) => el('li', { text: (d.field ? d.field + ': ' : '') + d.message })),
      ),
    );
  if (code) box.append(el('div', { class: 'code', text: 'code: ' + code }));
  byId('result').replaceChildren(box);
}

interface HistoryEntry {
  at: Date;
  record: InputRecord;
  answer: Answer;
}

const HISTORY_SIZE = 5;

/** Remembers the last predictions; "Reuse" puts an entry's inputs back into `fields()`. */
export function createHistory(fields: () => readonly Field[]) {
  const entries: HistoryEntry[] = [];
  return (record: InputRecord, answer: Answer): void => {
    entries.unshift({ at: new Date(), record, answer });
    entries.length = Math.min(entries.length, HISTORY_SIZE);
    byId('history-card').hidden = false;
    byId('history').replaceChildren(
      ...entries.map((h) => {
        const reuse = el('button', {
          type: 'button',
          text: 'Reuse',
          'aria-label': 'Reuse the inputs of this prediction',
        });
        reuse.addEventListener('click', () => {
          for (const f of fields()) {
            f.input.value = toInputValue(f.spec, h.record[f.spec.name]);
            clearFieldError(f);
          }
        });
        const inputs = Object.entries(h.record)
          .map(([k, v]) => k + ' ' + (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? fmtUtc(v) : v))
          .join(' · ');
        return el('li', {}, [
          el('div', { class: 'h-top' }, [
            el('span', { class: 'h-res ' + h.answer.summary.tone, text: h.answer.summary.text }),
            reuse,
          ]),
          el('div', { class: 'h-inputs' }, [
            el('span', { class: 'badge', text: 'v' + h.answer.version }),
            ' ',
            el('time', { datetime: h.at.toISOString(), text: h.at.toLocaleTimeString() }),
            ' · ' + inputs,
          ]),
        ]);
      }),
    );
  };
}
