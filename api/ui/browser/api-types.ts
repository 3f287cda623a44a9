/** What the page reads from the API (the HTTP contract only: the UI imports nothing else). */

export interface InputSpec {
  name: string;
  type: 'timestamp' | 'integer' | 'number' | 'category' | 'string';
  required?: boolean;
  min?: number | string;
  max?: number | string;
  default?: string | number | null;
  categories?: string[];
  allowed?: string[];
  pattern?: string;
}

export interface ModelInfo {
  name?: string;
  version?: number;
  stage?: string;
  ready?: boolean;
  reason?: string;
  task?: string;
  backend?: string;
  loaded_at?: string;
  git_commit?: string;
  label_text?: Record<string, string>;
  inputs?: InputSpec[];
}

export interface Prediction {
  probability?: number;
  label?: number | string;
  label_text?: string;
  threshold?: number;
  value?: number;
  /** Multi-class: every class's probability, keyed by class name (`label` is the most likely). */
  probabilities?: Record<string, number>;
}

export interface PredictAnswer {
  model_name?: string;
  model_version?: number;
  prediction_id?: string;
  prediction?: Prediction;
}

export interface FieldProblem {
  field?: string;
  message: string;
}

export interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: FieldProblem[] };
}
