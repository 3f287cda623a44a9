/**
 * The prediction page's script (`GET /`): builds the form from `GET /v1/models/<name>`, posts one
 * record to `POST /predict`, shows which model version answered and keeps the last answers.
 * Bundled by esbuild into the page's one inline script (see ../bundle.ts).
 */
import type { ApiErrorBody, FieldProblem, InputSpec, ModelInfo, PredictAnswer } from './api-types.ts';
import { byId, el, fmtUtc, readJson } from './dom.ts';
import { buildField, clearFieldError, readRecord, toInputValue, type Field } from './fields.ts';
import { createHistory, showError, showResult } from './result.ts';

const cfg = JSON.parse(byId('ui-config').textContent || '{}') as { modelName: string; basePath?: string };
const base = cfg.basePath || '';
const state: { info: ModelInfo | null; fields: Field[]; busy: boolean } = { info: null, fields: [], busy: false };
const addHistory = createHistory(() => state.fields);
const predictButton = byId<HTMLButtonElement>('predict');

function buildForm(inputs: InputSpec[], keepValues: boolean): void {
  const carried: Record<string, string> = {};
  if (keepValues) for (const f of state.fields) carried[f.spec.name] = f.input.value;
  const box = byId('fields');
  box.replaceChildren();
  state.fields = inputs.map((spec, i) => buildField(spec, i, carried[spec.name]));
  for (const f of state.fields) box.append(f.wrap);
  predictButton.disabled = false;
  byId<HTMLButtonElement>('reset').disabled = false;
}
const signature = (inputs: InputSpec[] | undefined) =>
  JSON.stringify((inputs || []).map((s) => [s.name, s.type, s.categories ? s.categories.length : 0]));

function renderInfo(info: ModelInfo): void {
  byId('model-name').textContent = info.name || cfg.modelName;
  byId('model-version').textContent = 'v' + info.version;
  byId('model-version').hidden = info.version === undefined;
  byId('model-stage').textContent = info.stage || 'no stage';
  byId('model-ready').hidden = info.ready !== false;
  const parts = [
    info.task,
    info.backend && 'backend ' + info.backend,
    info.loaded_at && 'loaded ' + fmtUtc(info.loaded_at),
    info.git_commit && 'commit ' + String(info.git_commit).slice(0, 7),
  ];
  byId('model-meta').textContent = parts.filter(Boolean).join(' · ');
}

function errorMessage(res: Response, body: ApiErrorBody | null): string {
  const e = body?.error;
  if (e?.message) return String(e.message);
  return 'The server answered ' + res.status + (res.statusText ? ' ' + res.statusText : '') + '.';
}

async function loadModel(keepValues: boolean): Promise<void> {
  const url = base + '/v1/models/' + encodeURIComponent(cfg.modelName);
  let res: Response | null = null;
  let body: (ModelInfo & ApiErrorBody) | null = null;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' } });
    body = await readJson(res);
  } catch {
    res = null;
  }
  if (!res || !res.ok || !body || body.ready === false || !Array.isArray(body.inputs)) {
    if (state.info) return; // a failed refresh keeps the working form; the next answer names its version
    if (!res)
      return showLoadError(
        'Could not reach the server to read the model description. Check that it is running, then retry.',
      );
    if (body && body.ready === false) {
      setTimeout(() => loadModel(keepValues), 3000);
      return showLoadError('The model is not ready yet (' + (body.reason || 'loading') + '). Trying again every 3 s…');
    }
    return showLoadError(res.ok ? 'The model description has no inputs.' : errorMessage(res, body));
  }
  const rebuild = !state.info || signature(state.info.inputs) !== signature(body.inputs);
  state.info = body;
  renderInfo(body);
  if (rebuild) buildForm(body.inputs, keepValues);
}

function showLoadError(message: string): void {
  const retry = el('button', { type: 'button', text: 'Retry' });
  retry.addEventListener('click', () => {
    byId('fields').replaceChildren(el('p', { class: 'placeholder', text: 'Loading model…' }));
    void loadModel(false);
  });
  byId('fields').replaceChildren(
    el('div', { class: 'error', role: 'alert' }, [
      el('p', { text: message }),
      el('div', { class: 'actions' }, [retry]),
    ]),
  );
}

async function submit(event: Event): Promise<void> {
  event.preventDefault();
  if (state.busy || !state.info) return;
  state.fields.forEach(clearFieldError);
  const record = readRecord(state.fields);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  const token = byId<HTMLInputElement>('token').value.trim();
  if (token) headers.authorization = 'Bearer ' + token;
  state.busy = true;
  predictButton.disabled = true;
  predictButton.textContent = 'Predicting…';
  const started = performance.now();
  try {
    let res: Response;
    try {
      res = await fetch(base + '/predict', { method: 'POST', headers, body: JSON.stringify(record) });
    } catch {
      return showError(
        'Could not reach the server, so nothing was predicted. Check that it is running and your network, then try again.',
        'network_error',
        [],
      );
    }
    const body = await readJson<PredictAnswer & ApiErrorBody>(res);
    if (!res.ok || !body) return handleError(res, body);
    const before = state.info.version;
    const swapped = body.model_version !== undefined && body.model_version !== before;
    const note = swapped
      ? 'The served model changed since this page loaded: v' + before + ' → v' + body.model_version + '.'
      : '';
    addHistory(record, showResult(body, performance.now() - started, note, state.info, cfg.modelName));
    byId('result-title').scrollIntoView({ block: 'nearest' });
    if (swapped) await loadModel(true);
  } finally {
    state.busy = false;
    predictButton.disabled = false;
    predictButton.textContent = 'Predict';
  }
}

function handleError(res: Response, body: ApiErrorBody | null): void {
  const e = body?.error ?? {};
  const unmatched: FieldProblem[] = [];
  let first: Field | null = null;
  for (const d of Array.isArray(e.details) ? e.details : []) {
    const field = state.fields.find((f) => f.spec.name === d.field);
    if (!field) {
      unmatched.push(d);
      continue;
    }
    field.input.setAttribute('aria-invalid', 'true');
    field.wrap.classList.add('invalid');
    field.error.textContent = field.error.textContent ? field.error.textContent + '; ' + d.message : String(d.message);
    first = first || field;
  }
  showError(errorMessage(res, body), e.code, unmatched);
  if (res.status === 401 || res.status === 403) {
    byId<HTMLDetailsElement>('token-box').open = true;
    byId('token').focus();
  } else if (first) first.input.focus();
}

byId('form').addEventListener('submit', (event) => void submit(event));
byId('reset').addEventListener('click', () => {
  for (const f of state.fields) {
    f.input.value = toInputValue(f.spec, f.spec.default);
    clearFieldError(f);
  }
});
void loadModel(false);
