/**
 * OpenAPI 3.1 document generated from the served bundle's input schema — the same schema
 * `core/data/records.ts` validates requests with, so the documentation cannot drift from the checks.
 */
import type { ColumnRule } from '../core/schemas/params.ts';
import type { InputSchema } from '../core/data/records.ts';

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
  schema: InputSchema;
  maxInstances: number;
  auth: boolean;
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
  const error = {
    type: 'object',
    properties: {
      error: {
        type: 'object',
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
        },
      },
    },
  };
  const errors = Object.fromEntries(
    ['400', '401', '403', '413', '415', '503'].map((c) => [
      c,
      { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    ]),
  );
  const security = opts.auth ? [{ bearer: [] }] : [];
  return {
    openapi: '3.1.0',
    info: {
      title: `${opts.modelName} inference API`,
      version: String(opts.version ?? 'none'),
      description:
        'KServe V1 / TF Serving REST predict plus a single-record endpoint. Every answer names the model version.',
    },
    components: {
      schemas: { Record: record, Prediction: prediction, Error: error },
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
                    properties: {
                      model_name: { type: 'string' },
                      model_version: { type: 'integer' },
                      prediction_id: {
                        type: 'string',
                        description:
                          'Signed id carrying the prediction; send it with the outcome to POST /feedback (any replica, within 24 h)',
                      },
                      prediction: { $ref: '#/components/schemas/Prediction' },
                    },
                  },
                },
              },
            },
            ...errors,
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
                    properties: {
                      model_name: { type: 'string' },
                      model_version: { type: 'integer' },
                      prediction_ids: {
                        type: 'array',
                        items: { type: ['string', 'null'] },
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
            ...errors,
          },
        },
      },
      [`/v1/models/${opts.modelName}`]: {
        get: {
          summary: 'Model metadata: version, stage, readiness, inputs with defaults',
          responses: { '200': { description: 'metadata' } },
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
        get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format' } } },
      },
      '/admin/reload': {
        post: {
          summary: 'Re-resolve the registry pointer now (admin token)',
          responses: { '200': { description: 'result' } },
        },
      },
    },
  };
}
