/**
 * Errors the model layer raises on purpose, each with a message a reader understands and what to
 * do next. `toErrorMessage` turns any thrown value into the protocol's `error` response.
 */
import type { ErrorCode, ErrorMessage } from '../../lib/model/protocol';
import { TransformersUnsupported } from './transformers-check';

export class ModelError extends Error {
  readonly code: ErrorCode;
  readonly action: string;
  readonly detail?: string;
  constructor(code: ErrorCode, message: string, action: string, detail?: string) {
    super(message);
    this.name = 'ModelError';
    this.code = code;
    this.action = action;
    this.detail = detail;
  }
}

/** Thrown between steps when a request was cancelled. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** Classify a load failure (missing file, corrupt file, network refused). */
export function loadError(model: string, cause: unknown): ModelError {
  const text = String((cause as Error)?.message ?? cause);
  if (/404|not found|could not locate|no such file|ENOENT|Unauthorized access/i.test(text)) {
    return new ModelError(
      'model-missing',
      `The files of the model "${model}" could not be found.`,
      'Reload the page; if it persists the site was built without the model (see the README to rebuild it).',
      text,
    );
  }
  if (/both local and remote models are disabled/i.test(text)) {
    return new ModelError(
      'remote-disabled',
      `The model "${model}" is not on this site and downloading models from the Hugging Face Hub is switched off.`,
      'Use the bundled model, or explicitly allow the download.',
      text,
    );
  }
  return new ModelError(
    'model-load-failed',
    `The model "${model}" could not be loaded: its file may be damaged or your browser cannot run it.`,
    'Reload the page. If it fails again, try a current desktop browser; the figures still show precomputed tensors.',
    text,
  );
}

export function toErrorMessage(id: string, err: unknown): ErrorMessage {
  if (err instanceof ModelError) {
    return { type: 'error', id, code: err.code, message: err.message, action: err.action, ...(err.detail ? { detail: err.detail } : {}) };
  }
  if (err instanceof TransformersUnsupported) {
    return {
      type: 'error',
      id,
      code: 'transformers-unsupported',
      message: `Transformers cannot run this cache: ${err.message}`,
      action: 'Pick another grouping, group size or bit width (the message says which part fails).',
      detail: err.raises,
    };
  }
  const detail = String((err as Error)?.message ?? err);
  return {
    type: 'error',
    id,
    code: 'runtime',
    message: 'The model stopped with an unexpected error.',
    action: 'Try again; if it repeats, reload the page.',
    detail,
  };
}
