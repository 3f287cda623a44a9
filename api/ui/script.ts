/**
 * The UI's browser script, inlined into the page. Plain ES2020 in a String.raw literal so regex
 * backslashes survive; it must never contain a backtick, a dollar-brace or a closing script tag.
 * Every server-provided string reaches the DOM through textContent or setAttribute, never HTML.
 */
export const UI_SCRIPT = String.raw`
(() => {
  'use strict';
  const cfg = JSON.parse(document.getElementById('ui-config').textContent || '{}');
  const base = cfg.basePath || '';
  const $ = (id) => document.getElementById(id);
  const state = { info: null, fields: [], history: [], busy: false };
  const HISTORY_SIZE = 5;

  function el(tag, props, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'text') node.textContent = String(value);
      else if (key === 'class') node.className = value;
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children || []) if (child !== null && child !== undefined) node.append(child);
    return node;
  }
  const humanize = (name) => { const s = String(name).replace(/[_-]+/g, ' '); return s.charAt(0).toUpperCase() + s.slice(1); };
  const fmtUtc = (iso) => { const d = new Date(iso); return isNaN(d.getTime()) ? String(iso) : d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC'; };
  const pct = (p) => (p * 100).toFixed(1) + '%';

  // The model reads timestamps as UTC wall-clock time, so the datetime-local value is UTC too.
  function isoToInput(iso, endOfDay) {
    if (iso === undefined || iso === null || iso === '') return '';
    if (typeof iso === 'number') iso = new Date(iso).toISOString();
    let s = String(iso);
    if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return s + (endOfDay ? 'T23:59' : 'T00:00');
    if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(s)) s += 'Z';
    const d = new Date(s);
    if (isNaN(d.getTime())) return '';
    const out = d.toISOString();
    return out.slice(17, 19) === '00' ? out.slice(0, 16) : out.slice(0, 19);
  }
  function inputToIso(value) {
    const d = new Date(value + 'Z');
    return isNaN(d.getTime()) ? value : d.toISOString();
  }
  const choices = (spec) => (Array.isArray(spec.categories) && spec.categories.length ? spec.categories : Array.isArray(spec.allowed) ? spec.allowed : []);
  function wantsUppercase(spec) {
    if (spec.type !== 'category') return false;
    if (choices(spec).length) return choices(spec).every((c) => String(c) === String(c).toUpperCase());
    return typeof spec.pattern === 'string' && spec.pattern.includes('A-Z') && !spec.pattern.includes('a-z');
  }
  function hintFor(spec) {
    const range = (lo, hi) => (lo !== undefined && hi !== undefined ? lo + ' – ' + hi : lo !== undefined ? '≥ ' + lo : hi !== undefined ? '≤ ' + hi : '');
    switch (spec.type) {
      case 'timestamp': return range(spec.min, spec.max);
      case 'integer': return ['whole number', range(spec.min, spec.max)].filter(Boolean).join(' · ');
      case 'number': return range(spec.min, spec.max);
      default:
        if (choices(spec).length) return choices(spec).length + ' known values — type to search';
        return spec.pattern ? 'format ' + spec.pattern : '';
    }
  }
  function toInputValue(spec, value) {
    if (value === undefined || value === null) return '';
    return spec.type === 'timestamp' ? isoToInput(value, false) : String(value);
  }

  function buildField(spec, index, carried) {
    const plain = 'f-' + String(spec.name).replace(/[^A-Za-z0-9_-]/g, '_');
    const id = document.getElementById(plain) ? plain + '-' + index : plain;
    const attrs = { id, name: spec.name, required: spec.required !== false, 'aria-describedby': id + '-hint ' + id + '-err' };
    if (spec.type === 'timestamp') {
      Object.assign(attrs, { type: 'datetime-local', min: isoToInput(spec.min, false) || null, max: isoToInput(spec.max, true) || null });
      if (String(isoToInput(spec.default, false)).length > 16) attrs.step = 1;
    } else if (spec.type === 'number' || spec.type === 'integer') {
      Object.assign(attrs, { type: 'number', inputmode: spec.type === 'integer' ? 'numeric' : 'decimal', min: spec.min, max: spec.max, step: spec.type === 'integer' ? 1 : 'any' });
    } else {
      Object.assign(attrs, { type: 'text', autocomplete: 'off', spellcheck: 'false' });
    }
    const input = el('input', attrs);
    input.value = carried !== undefined ? carried : toInputValue(spec, spec.default);
    const children = [el('label', { for: id }, [humanize(spec.name) + (spec.type === 'timestamp' ? ' (UTC)' : ''), spec.required !== false ? el('span', { class: 'req', 'aria-hidden': 'true', text: '*' }) : null]), input];
    if (choices(spec).length) {
      input.setAttribute('list', id + '-list');
      children.push(el('datalist', { id: id + '-list' }, choices(spec).map((c) => el('option', { value: c }))));
    }
    const field = { spec, input, wrap: null, error: el('span', { class: 'ferr', id: id + '-err' }) };
    children.push(el('span', { class: 'hint', id: id + '-hint', text: hintFor(spec) }), field.error);
    field.wrap = el('div', { class: 'field' }, children);
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

  function buildForm(inputs, keepValues) {
    const carried = {};
    if (keepValues) for (const f of state.fields) carried[f.spec.name] = f.input.value;
    const box = $('fields');
    box.replaceChildren();
    state.fields = [];
    inputs.forEach((spec, i) => {
      const field = buildField(spec, i, carried[spec.name]);
      state.fields.push(field);
      box.append(field.wrap);
    });
    $('predict').disabled = false;
    $('reset').disabled = false;
  }
  const signature = (inputs) => JSON.stringify((inputs || []).map((s) => [s.name, s.type, s.categories ? s.categories.length : 0]));

  function renderInfo(info) {
    $('model-name').textContent = info.name || cfg.modelName;
    $('model-version').textContent = 'v' + info.version;
    $('model-version').hidden = info.version === undefined;
    $('model-stage').textContent = info.stage || 'no stage';
    $('model-ready').hidden = info.ready !== false;
    const parts = [info.task, info.backend && 'backend ' + info.backend, info.loaded_at && 'loaded ' + fmtUtc(info.loaded_at), info.git_commit && 'commit ' + String(info.git_commit).slice(0, 7)];
    $('model-meta').textContent = parts.filter(Boolean).join(' · ');
  }

  async function readJson(res) { try { return await res.json(); } catch { return null; } }
  function errorMessage(res, body) {
    const e = body && body.error;
    if (e && e.message) return String(e.message);
    return 'The server answered ' + res.status + (res.statusText ? ' ' + res.statusText : '') + '.';
  }

  async function loadModel(keepValues) {
    const url = base + '/v1/models/' + encodeURIComponent(cfg.modelName);
    let res, body;
    try { res = await fetch(url, { headers: { accept: 'application/json' } }); body = await readJson(res); }
    catch { res = null; }
    if (!res || !res.ok || !body || body.ready === false || !Array.isArray(body.inputs)) {
      if (state.info) return; // a failed refresh keeps the working form; the next answer names its version
      if (!res) return showLoadError('Could not reach the server to read the model description. Check that it is running, then retry.');
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
  function showLoadError(message) {
    const retry = el('button', { type: 'button', text: 'Retry' });
    retry.addEventListener('click', () => { $('fields').replaceChildren(el('p', { class: 'placeholder', text: 'Loading model…' })); loadModel(false); });
    $('fields').replaceChildren(el('div', { class: 'error', role: 'alert' }, [el('p', { text: message }), el('div', { class: 'actions' }, [retry])]));
  }

  function clearFieldError(field) {
    field.input.removeAttribute('aria-invalid');
    field.wrap.classList.remove('invalid');
    field.error.textContent = '';
  }
  function readRecord() {
    const record = {};
    for (const f of state.fields) {
      const raw = f.input.value.trim();
      if (raw === '') continue;
      if (f.spec.type === 'number' || f.spec.type === 'integer') record[f.spec.name] = Number.isFinite(Number(raw)) ? Number(raw) : raw;
      else if (f.spec.type === 'timestamp') record[f.spec.name] = inputToIso(raw);
      else record[f.spec.name] = raw;
    }
    return record;
  }

  function labelText(pred, positive) {
    if (typeof pred.label_text === 'string' && pred.label_text) return pred.label_text;
    const hints = state.info && state.info.label_text;
    const key = pred.label !== undefined ? String(Number(pred.label)) : positive ? '1' : '0';
    if (hints && typeof hints[key] === 'string') return hints[key];
    return positive ? 'positive' : 'negative';
  }
  function showResult(body, ms, note) {
    const p = body.prediction || {};
    const name = body.model_name || (state.info && state.info.name) || cfg.modelName;
    const out = [];
    if (note) out.push(el('p', { class: 'note', text: note }));
    out.push(el('p', { class: 'answered', id: 'answered' }, ['answered by ', el('strong', { text: name + ' v' + body.model_version })]));
    let summary;
    if (typeof p.probability === 'number') {
      const positive = p.label !== undefined ? Number(p.label) === 1 : p.probability >= (p.threshold ?? 0.5);
      const words = labelText(p, positive);
      const tone = positive ? 'pos' : 'neg';
      const fill = el('div', { class: 'fill ' + tone });
      fill.style.width = Math.max(0, Math.min(1, p.probability)) * 100 + '%';
      const bar = el('div', { class: 'bar', 'aria-hidden': 'true' }, [fill]);
      if (typeof p.threshold === 'number') { const mark = el('div', { class: 'mark', title: 'threshold' }); mark.style.left = p.threshold * 100 + '%'; bar.append(mark); }
      out.push(el('p', { class: 'verdict ' + tone, id: 'verdict', text: words }),
        el('div', { class: 'prob' }, [el('span', { class: 'pct', id: 'probability', text: pct(p.probability) }), el('span', { class: 'meta', text: 'probability' })]),
        bar, el('div', { class: 'meta', text: typeof p.threshold === 'number' ? 'decision threshold ' + pct(p.threshold) + ' (the mark on the bar)' : '' }));
      summary = { text: pct(p.probability) + ' · ' + words, tone };
    } else if (typeof p.value === 'number') {
      const v = p.value.toLocaleString(undefined, { maximumFractionDigits: 3 });
      out.push(el('p', { class: 'meta', text: 'predicted value' }), el('p', { class: 'value', id: 'value', text: v }));
      summary = { text: v, tone: '' };
    } else {
      out.push(el('pre', { text: JSON.stringify(p, null, 2) }));
      summary = { text: 'answered', tone: '' };
    }
    out.push(el('p', { class: 'small', text: 'prediction id ' + (body.prediction_id || '—') + ' · ' + Math.round(ms) + ' ms' }));
    $('result').replaceChildren(...out);
    return { name, version: body.model_version, summary };
  }
  function showError(message, code, unmatched) {
    const box = el('div', { class: 'error', id: 'error' }, [el('p', { text: message })]);
    if (unmatched.length) box.append(el('ul', {}, unmatched.map((d) => el('li', { text: (d.field ? d.field + ': ' : '') + d.message }))));
    if (code) box.append(el('div', { class: 'code', text: 'code: ' + code }));
    $('result').replaceChildren(box);
  }

  function addHistory(record, answer) {
    state.history.unshift({ at: new Date(), record, answer });
    state.history.length = Math.min(state.history.length, HISTORY_SIZE);
    $('history-card').hidden = false;
    $('history').replaceChildren(...state.history.map((h) => {
      const reuse = el('button', { type: 'button', text: 'Reuse', 'aria-label': 'Reuse the inputs of this prediction' });
      reuse.addEventListener('click', () => { for (const f of state.fields) { f.input.value = toInputValue(f.spec, h.record[f.spec.name]); clearFieldError(f); } });
      const inputs = Object.entries(h.record).map(([k, v]) => k + ' ' + (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? fmtUtc(v) : v)).join(' · ');
      return el('li', {}, [
        el('div', { class: 'h-top' }, [el('span', { class: 'h-res ' + h.answer.summary.tone, text: h.answer.summary.text }), reuse]),
        el('div', { class: 'h-inputs' }, [el('span', { class: 'badge', text: 'v' + h.answer.version }), ' ',
          el('time', { datetime: h.at.toISOString(), text: h.at.toLocaleTimeString() }), ' · ' + inputs]),
      ]);
    }));
  }

  async function submit(event) {
    event.preventDefault();
    if (state.busy || !state.info) return;
    state.fields.forEach(clearFieldError);
    const record = readRecord();
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    const token = $('token').value.trim();
    if (token) headers.authorization = 'Bearer ' + token;
    state.busy = true;
    $('predict').disabled = true;
    $('predict').textContent = 'Predicting…';
    const started = performance.now();
    try {
      let res;
      try { res = await fetch(base + '/predict', { method: 'POST', headers, body: JSON.stringify(record) }); }
      catch { return showError('Could not reach the server, so nothing was predicted. Check that it is running and your network, then try again.', 'network_error', []); }
      const body = await readJson(res);
      if (!res.ok || !body) return handleError(res, body);
      const before = state.info.version;
      const swapped = body.model_version !== undefined && body.model_version !== before;
      const note = swapped ? 'The served model changed since this page loaded: v' + before + ' → v' + body.model_version + '.' : '';
      addHistory(record, showResult(body, performance.now() - started, note));
      $('result-title').scrollIntoView({ block: 'nearest' });
      if (swapped) await loadModel(true);
    } finally {
      state.busy = false;
      $('predict').disabled = false;
      $('predict').textContent = 'Predict';
    }
  }
  function handleError(res, body) {
    const e = (body && body.error) || {};
    const unmatched = [];
    let first = null;
    for (const d of Array.isArray(e.details) ? e.details : []) {
      const field = state.fields.find((f) => f.spec.name === d.field);
      if (!field) { unmatched.push(d); continue; }
      field.input.setAttribute('aria-invalid', 'true');
      field.wrap.classList.add('invalid');
      field.error.textContent = field.error.textContent ? field.error.textContent + '; ' + d.message : String(d.message);
      first = first || field;
    }
    showError(errorMessage(res, body), e.code, unmatched);
    if (res.status === 401 || res.status === 403) { $('token-box').open = true; $('token').focus(); }
    else if (first) first.input.focus();
  }

  $('form').addEventListener('submit', submit);
  $('reset').addEventListener('click', () => { for (const f of state.fields) { f.input.value = toInputValue(f.spec, f.spec.default); clearFieldError(f); } });
  loadModel(false);
})();
`;
