/**
 * Logger for CLIs and services. CLIs print readable lines; services (or LOG_FORMAT=json)
 * print one JSON object per line so log shippers can parse them.
 */
export type LogFields = Record<string, unknown>;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(component: string): Logger;
  /** Whether a message at this level would be written (skip building fields on hot paths). */
  enabled(level: LogLevel): boolean;
}

export interface LoggerOptions {
  component?: string;
  format?: 'text' | 'json';
  write?: (line: string) => void;
  level?: LogLevel;
  now?: () => Date;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /\s|=/.test(v) ? JSON.stringify(v) : v;
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? (process.env.LOG_FORMAT === 'json' ? 'json' : 'text');
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const min = LEVELS[options.level ?? (process.env.LOG_LEVEL as LogLevel | undefined) ?? 'info'] ?? LEVELS.info;
  const now = options.now ?? (() => new Date());
  const component = options.component;

  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (LEVELS[level] < min) return;
    if (format === 'json') {
      const record: LogFields = { time: now().toISOString(), level, ...(component ? { component } : {}), msg };
      for (const [k, v] of Object.entries(fields)) record[k] = v instanceof Error ? v.message : v;
      write(JSON.stringify(record));
      return;
    }
    const prefix = component ? `[${component}] ` : '';
    const tag = level === 'info' ? '' : `${level.toUpperCase()}: `;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
    write(`${prefix}${tag}${msg}${extra ? '  ' + extra : ''}`);
  };

  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (c) => createLogger({ ...options, format, write, now, component: component ? `${component}:${c}` : c }),
    enabled: (level) => LEVELS[level] >= min,
  };
}

/** A logger that records lines in memory (tests, quiet library calls). */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ format: 'json', write: (l) => lines.push(l), level: 'debug' });
  return Object.assign(logger, { lines });
}
