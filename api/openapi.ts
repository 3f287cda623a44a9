/**
 * OpenAPI 3.1 document generated from the served bundle's input schema — the same schema
 * `core/data/records.ts` validates requests with, so the documentation cannot drift from the checks.
 */
import type { ColumnRule } from '../core/schemas/params.ts';
import type { InputSchema } from '../core/data/records.ts';
import { MAX_PREDICTION_ID_CHARS, PREDICTION_ID_PATTERN } from './prediction-id.ts';
import { MAX_FEEDBACK_ITEMS } from './routes/feedback.ts';
const jsonBody = (schema: Record<string, unknown>) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** An error answer whose `error.code` is one of `codes`: the codes the route really answers with at this status. */
function errorAnswer(description: string, codes: string[], headers?: Record<string, unknown>) {
  return {
    description: `${description} (error.code ${codes.join(' | ')})`,
    ...(headers ? { headers } : {}),
    content: jsonBody({
      allOf: [
        ref('Error'),
        { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: codes } } } } },
      ],
    }),
  };
}

export function fieldJsonSchema(rule: ColumnRule): Record<string, unknown> {
  switch (rule.type) {
    case 'number':
    case 'integer':
      return {
        type: rule.type,
        ...(rule.min !== undefined ? { minimum: Number(rule.min) } : {}),
        ...(rule.max !== undefined ? { maximum: Number(rule.max) } : {}),
      };
    case 'timestamp':
      return {
        oneOf: [
          {
            type: 'string',
            format: 'date-time',
            description: 'ISO 8601; without a zone it is read as UTC wall-clock time',
          },
          { type: 'integer', description: 'epoch milliseconds' },
        ],
        ...(rule.min !== undefined ? { 'x-minimum': rule.min } : {}),
        ...(rule.max !== undefined ? { 'x-maximum': rule.max } : {}),
      };
    default:
      return {
        type: 'string',
        ...(rule.pattern ? { pattern: rule.pattern } : {}),
        ...(rule.allowed ? { enum: rule.allowed } : {}),
      };
  }
}

export function recordJsonSchema(schema: InputSchema): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: Object.entries(schema)
      .filter(([, r]) => r.required)
      .map(([k]) => k),
    properties: Object.fromEntries(Object.entries(schema).map(([k, r]) => [k, fieldJsonSchema(r)])),
  };
}

export function openApiDocument(opts: {
  modelName: string;
  version: number | null;
  task: 'classification' | 'regression';
  /** Multi-class: the class names (the answer is a label and a probability per class). */
  classes?: readonly string[];
  /** Binary targets named by a positive class: feedback may give the label by name. */
  positiveClass?: string;
  schema: InputSchema;
  /** A numeric target's range (bundle.json target_range): POST /feedback refuses an actual outside it. */
  targetRange?: { min?: number; max?: number };
  maxInstances: number;
  /** Prediction routes need a bearer token (API_TOKENS). */
  auth: boolean;
  /** GET /feedback, /drift and /metrics need a bearer token (API_TOKENS without PUBLIC_MONITORING=on). */
  monitoringAuth?: boolean;
}) {
  const record = recordJsonSchema(opts.schema);
  const probabilities = opts.classes
    ? {
        type: 'object',
        properties: Object.fromEntries(opts.classes.map((c) => [c, { type: 'number' }])),
        required: [...opts.classes],
      }
    : null;
  const prediction = probabilities
    ? {
        type: 'object',
        properties: {
          label: { type: 'string', enum: [...opts.classes!] },
          probability: { type: 'number' },
          probabilities,
        },
        required: ['label', 'probability', 'probabilities'],
      }
    : opts.task === 'classification'
      ? {
          type: 'object',
          properties: {
            probability: { type: 'number' },
            label: { type: 'integer', enum: [0, 1] },
            threshold: { type: 'number' },
          },
          required: ['probability', 'label', 'threshold'],
        }
      : { type: 'object', properties: { value: { type: 'number' } }, required: ['value'] };
  // Both required: a row of a batch answer is a Prediction or an Error, and must match only one.
  const error = {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          details: {
            type: 'array',
            items: {
              type: 'object',
              properties: { instance: { type: 'integer' }, field: { type: 'string' }, message: { type: 'string' } },
            },
          },
          details_omitted: { type: 'integer', description: 'details left out to keep the answer under 16 KiB' },
        },
      },
    },
  };
  const security = opts.auth ? [{ bearer: [] }] : [];
  const monitoringSecurity = opts.monitoringAuth ? [{ bearer: [] }] : [];
  const authErrors = (on: boolean) =>
    on
      ? {
          '401': errorAnswer('no or malformed Authorization header', ['unauthorized']),
          '403': errorAnswer('the token may not use this route', ['forbidden']),
        }
      : {};
  const bodyErrors = {
    '413': errorAnswer('the body is larger than BODY_LIMIT_BYTES', ['payload_too_large']),
    '415': errorAnswer('the body is not application/json', ['unsupported_media_type']),
  };
  const predictErrors = (batch: boolean) => ({
    '400': errorAnswer('the body is not JSON, or a field is invalid (details name each field and instance)', [
      'invalid_request',
      'invalid_json',
      'invalid_encoding',
    ]),
    ...authErrors(opts.auth),
    '413': batch
      ? errorAnswer(`more than ${opts.maxInstances} instances, or the body is larger than BODY_LIMIT_BYTES`, [
          'too_many_instances',
          'payload_too_large',
        ])
      : bodyErrors['413'],
    '415': bodyErrors['415'],
    '503': errorAnswer(
      batch
        ? 'no model is loaded yet, or the model gave no finite output for every row'
        : 'no model is loaded yet, or the model gave no finite output for this record',
      ['model_not_ready', 'model_unhealthy'],
    ),
  });
  const predictionId = {
    type: 'string',
    pattern: PREDICTION_ID_PATTERN,
    description:
      'Signed id carrying the prediction; send it with the outcome to POST /feedback (any replica, within 24 h)',
  };
  const label = opts.classes
    ? { enum: [...opts.classes], description: 'the observed class, by name' }
    : opts.positiveClass !== undefined
      ? {
          type: ['string', 'integer', 'boolean'],
          description: `the observed class: ${JSON.stringify(opts.positiveClass)} (positive), another label (negative), 0 or 1`,
        }
      : { enum: [0, 1, true, false], description: 'the observed class (1 or true: positive)' };
  const feedbackItem = {
    type: 'object',
    required: ['prediction_id'],
    description:
      opts.task === 'regression'
        ? 'The observed value of one prediction: "actual" in target units'
        : 'The observed outcome of one prediction: "label", or "actual" in target units (above the positive_above cut is positive)',
    properties: {
      prediction_id: {
        type: 'string',
        pattern: PREDICTION_ID_PATTERN,
        maxLength: MAX_PREDICTION_ID_CHARS,
        description: 'the prediction_id (or one of the prediction_ids) a prediction answer returned, unchanged',
      },
      ...(opts.task === 'regression' ? {} : { label }),
      // A target with class names reads "actual" as a label too (api/routes/feedback.ts).
      actual:
        opts.classes || opts.positiveClass !== undefined
          ? { ...label, description: 'the same as "label"' }
          : {
              type: 'number',
              ...(opts.targetRange?.min !== undefined && { minimum: opts.targetRange.min }),
              ...(opts.targetRange?.max !== undefined && { maximum: opts.targetRange.max }),
              description: opts.targetRange
                ? 'the observed target value, within the range every training row met (validate.schema)'
                : 'the observed target value (finite)',
            },
    },
  };
  const feedbackResult = {
    type: 'object',
    required: ['index', 'status'],
    properties: {
      index: { type: 'integer', description: 'position of the item in the request (0 for a single label)' },
      prediction_id: { type: 'string' },
      status: { type: 'integer', enum: [200, 400, 404, 409, 503] },
      error: { type: 'string', description: 'why the item was not joined (status other than 200)' },
      model_version: { type: 'integer', description: 'the version that served the prediction' },
      predicted: { type: 'number', description: 'what was served: probability, value or class index' },
      actual: { type: 'number', description: 'the outcome as joined: 0/1, class index or value' },
      predicted_label: { type: 'string', description: 'multi-class: the class served (the name of `predicted`)' },
      actual_label: { type: 'string', description: 'multi-class: the class that happened (the name of `actual`)' },
    },
  };
  const joined = {
    ...feedbackResult,
    required: ['index', 'prediction_id', 'status', 'model_version', 'predicted', 'actual'],
  };
  const results = {
    type: 'object',
    required: ['results'],
    properties: { results: { type: 'array', items: ref('FeedbackResult') } },
  };
  const scopeFields = {
    scope: { type: 'string', description: 'this replica only; the fleet view is in Prometheus' },
    fleet: {
      type: 'object',
      properties: { rules: { type: 'array', items: { type: 'string' } }, dashboard: { type: 'string' } },
    },
  };
  const nullableNumber = { type: ['number', 'null'] };
  const liveQuality = {
    oneOf: [
      { type: 'null', description: 'no label joined yet' },
      {
        type: 'object',
        required: ['task', 'n'],
        description:
          'classification: accuracy, precision, recall, f1, roc_auc, positive_rate; regression: mae, rmse, mean_error; multiclass: accuracy, macro_f1',
        properties: {
          task: { enum: ['classification', 'regression', 'multiclass'] },
          n: { type: 'integer' },
          accuracy: { type: 'number' },
          precision: { type: 'number' },
          recall: { type: 'number' },
          f1: { type: 'number' },
          roc_auc: nullableNumber,
          positive_rate: { type: 'number' },
          mae: { type: 'number' },
          rmse: { type: 'number' },
          mean_error: { type: 'number' },
          macro_f1: { type: 'number' },
        },
      },
    ],
  };
  const html = (summary: string) => ({
    get: {
      summary,
      responses: { '200': { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: `${opts.modelName} inference API`,
      version: String(opts.version ?? 'none'),
      description:
        'KServe V1 / TF Serving REST predict plus a single-record endpoint. Every answer names the model version.',
    },
    components: {
      schemas: {
        Record: record,
        Prediction: prediction,
        Error: error,
        FeedbackItem: feedbackItem,
        FeedbackResult: feedbackResult,
      },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    paths: {
      '/predict': {
        post: {
          summary: 'Predict one record',
          security,
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Record' } } },
          },
          responses: {
            '200': {
              description: 'prediction',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['model_name', 'model_version', 'prediction_id', 'prediction'],
                    properties: {
                      model_name: { type: 'string' },
                      model_version: { type: 'integer' },
                      prediction_id: predictionId,
                      prediction: { $ref: '#/components/schemas/Prediction' },
                    },
                  },
                },
              },
            },
            ...predictErrors(false),
          },
        },
      },
      [`/v1/models/${opts.modelName}:predict`]: {
        post: {
          summary: `Predict up to ${opts.maxInstances} records (KServe V1)`,
          security,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['instances'],
                  properties: {
                    instances: {
                      type: 'array',
                      minItems: 1,
                      maxItems: opts.maxInstances,
                      items: { $ref: '#/components/schemas/Record' },
                    },
                  },
                },
              },
            },
          },
          responses: {
            '200': {
              description:
                'predictions, in request order. A row the model gave no finite output for holds an Error (code model_unhealthy) in its slot and a null prediction id; the other rows are predicted. Every row failing is a 503; an invalid field in any row is a 400 naming each instance.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['model_name', 'model_version', 'prediction_ids', 'predictions'],
                    properties: {
                      model_name: { type: 'string' },
                      model_version: { type: 'integer' },
                      prediction_ids: {
                        type: 'array',
                        items: { oneOf: [{ type: 'string', pattern: PREDICTION_ID_PATTERN }, { type: 'null' }] },
                        description:
                          'Signed ids, one per instance (null for a row answered with an error), for POST /feedback',
                      },
                      predictions: {
                        type: 'array',
                        items: {
                          oneOf: [{ $ref: '#/components/schemas/Prediction' }, { $ref: '#/components/schemas/Error' }],
                        },
                      },
                    },
                  },
                },
              },
            },
            ...predictErrors(true),
          },
        },
      },
      '/v1/models': {
        get: {
          summary: 'The models this server serves (KServe V1 / TF Serving list): {"models": [name]}',
          responses: { '200': { description: 'the model names' } },
        },
      },
      [`/v1/models/${opts.modelName}`]: {
        get: {
          summary: 'Model metadata: version, stage, readiness, inputs with defaults',
          responses: { '200': { description: 'metadata' } },
        },
      },
      '/feedback': {
        post: {
          summary: `Report the observed outcome of predictions (one, or up to ${MAX_FEEDBACK_ITEMS} as {"feedback": [...]}); feeds live quality`,
          description:
            "A label is joined once: the id is signed and carries the prediction, so any replica joins it within FEEDBACK_TTL_MS (24 h by default). A repeat is refused on every replica when FEEDBACK_DEDUPE_URL is set, else on the replica that joined it. A single label answers with its own status; a batch answers 200 when every item was joined, else 207 with each item's status.",
          security,
          requestBody: {
            required: true,
            content: jsonBody({
              oneOf: [
                ref('FeedbackItem'),
                {
                  type: 'object',
                  required: ['feedback'],
                  properties: {
                    feedback: {
                      type: 'array',
                      minItems: 1,
                      maxItems: MAX_FEEDBACK_ITEMS,
                      items: ref('FeedbackItem'),
                    },
                  },
                },
              ],
            }),
          },
          responses: {
            '200': {
              description: 'joined: the single label, or every item of a batch',
              content: jsonBody({ oneOf: [joined, results] }),
            },
            '207': {
              description:
                'a batch with at least one item not joined: each result has its status (400, 404, 409, 503) and error',
              content: jsonBody(results),
            },
            '400': errorAnswer('the body or the label is not valid', [
              'invalid_request',
              'invalid_json',
              'invalid_encoding',
            ]),
            ...authErrors(opts.auth),
            '404': errorAnswer('the id is unknown, altered, signed with a key this replica does not hold, or expired', [
              'unknown_prediction',
            ]),
            '409': errorAnswer('this prediction already has its label', ['duplicate_feedback']),
            '413': errorAnswer(`more than ${MAX_FEEDBACK_ITEMS} items, or the body is larger than BODY_LIMIT_BYTES`, [
              'too_many_items',
              'payload_too_large',
            ]),
            '415': bodyErrors['415'],
            '503': errorAnswer(
              'the store that refuses repeats (FEEDBACK_DEDUPE_URL) did not answer; send the label again',
              ['feedback_store_unavailable'],
              { 'Retry-After': { description: 'seconds to wait before sending again', schema: { type: 'integer' } } },
            ),
          },
        },
        get: {
          summary: 'Live quality over the last FEEDBACK_WINDOW joined labels, of this replica',
          security: monitoringSecurity,
          responses: {
            '200': {
              description: 'live quality',
              content: jsonBody({
                type: 'object',
                required: ['scope', 'window_size', 'samples', 'live'],
                properties: {
                  ...scopeFields,
                  window_size: { type: 'integer' },
                  samples: { type: 'integer' },
                  joined_ids_remembered: { type: 'integer' },
                  repeats_refused_across: { type: 'string' },
                  live: liveQuality,
                },
              }),
            },
            ...authErrors(opts.monitoringAuth ?? false),
          },
        },
      },
      '/drift': {
        get: {
          summary: 'Live drift of each input and of the predictions against the training reference, of this replica',
          security: monitoringSecurity,
          responses: {
            '200': {
              description: 'per-feature drift (method, score, threshold, verdict), dataset drift share and history',
              content: jsonBody({
                type: 'object',
                required: ['scope', 'served_model_version'],
                properties: {
                  ...scopeFields,
                  served_model_version: { type: ['integer', 'null'] },
                  model_version: { type: ['integer', 'null'], description: 'the version the windows judge' },
                  computed_at: { type: ['string', 'null'] },
                  window: { type: 'integer' },
                  window_size: { type: 'integer' },
                  dataset: {
                    type: 'object',
                    properties: {
                      drifted: { type: 'boolean' },
                      drift_share: { type: 'number' },
                      evaluated: { type: 'integer' },
                      drifted_features: { type: 'array', items: { type: 'string' } },
                    },
                  },
                  features: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['name', 'drifted'],
                      properties: {
                        name: { type: 'string' },
                        drifted: { type: 'boolean' },
                        result: { type: ['object', 'null'] },
                        reason: { type: 'string' },
                        unseen_total: { type: 'integer' },
                        out_of_range_total: { type: 'integer' },
                      },
                    },
                  },
                  history: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        at: { type: 'string' },
                        drift_share: { type: 'number' },
                        scores: { type: 'object', additionalProperties: { type: 'number' } },
                      },
                    },
                  },
                },
              }),
            },
            ...authErrors(opts.monitoringAuth ?? false),
            '404': errorAnswer('monitoring is off (MONITORING=off)', ['not_found']),
          },
        },
      },
      '/monitoring': html('Monitoring page: reference vs current distributions, drift over time, live quality'),
      '/': html('A page to try the model'),
      '/openapi.json': {
        get: {
          summary: 'This document, generated from the served model',
          responses: {
            '200': { description: 'OpenAPI 3.1', content: jsonBody({ type: 'object' }) },
            '503': errorAnswer('no model loaded yet', ['model_not_ready']),
          },
        },
      },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'alive' } } } },
      // Open Inference Protocol (KServe V2): the shapes are the protocol's own (kserve/open-inference-protocol).
      '/v2/health/live': {
        get: { summary: 'V2 server live', responses: { '200': { description: '{"live": true}' } } },
      },
      '/v2/health/ready': {
        get: {
          summary: 'V2 server ready',
          responses: { '200': { description: '{"ready": true}' }, '503': { description: '{"ready": false}' } },
        },
      },
      '/v2': {
        get: { summary: 'V2 server metadata', responses: { '200': { description: 'name, version, extensions' } } },
      },
      '/v2/': {
        get: {
          summary: 'V2 server metadata (the same as /v2)',
          responses: { '200': { description: 'name, version, extensions' } },
        },
      },
      [`/v2/models/${opts.modelName}`]: {
        get: {
          summary: 'V2 model metadata: input tensors (one per input column) and output tensors',
          responses: { '200': { description: 'name, versions, platform, inputs, outputs' } },
        },
      },
      [`/v2/models/${opts.modelName}/ready`]: {
        get: {
          summary: 'V2 model ready',
          responses: { '200': { description: '{"name", "ready": true}' }, '503': { description: 'not ready' } },
        },
      },
      [`/v2/models/${opts.modelName}/infer`]: {
        post: {
          summary:
            'V2 inference: {"inputs": [{"name": <column>, "shape": [N], "datatype", "data"}]} → {"model_name", "model_version", "outputs": [...]}; errors {"error": "..."}',
          security,
          responses: {
            '200': {
              description:
                'output tensors (probability/label, value, or label/probability/probabilities) and prediction_id',
            },
            '400': { description: '{"error": "..."}' },
          },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: 200 once a model is loaded and warmed',
          responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: monitoringSecurity,
          responses: {
            '200': { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } },
            ...authErrors(opts.monitoringAuth ?? false),
            '503': errorAnswer("WORKERS > 1: the workers' metrics could not be collected; retry", [
              'metrics_unavailable',
            ]),
          },
        },
      },
      '/admin/reload': {
        post: {
          summary: 'Re-resolve the registry pointer now (admin token)',
          security: [{ bearer: [] }],
          responses: {
            '200': { description: 'result' },
            '401': errorAnswer('no or malformed Authorization header', ['unauthorized']),
            '403': errorAnswer('not the admin token, or ADMIN_TOKEN is unset (admin routes disabled)', ['forbidden']),
            '409': { description: 'the version is refused, or there is no production version' },
            '503': { description: 'the registry cannot be read' },
          },
        },
      },
    },
  };
}
