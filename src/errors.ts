/**
 * The one closed list of error codes loopcheck reports. Native code (native/common/errors.h) uses the
 * same names; extend both here and there, deliberately, never ad hoc.
 */
export const ERROR_CODES = [
  'DEVICE_NOT_FOUND',
  'DEVICE_LOST',
  'DEVICE_BUSY',
  'FORMAT_UNSUPPORTED',
  'BACKEND_UNAVAILABLE',
  'SERVICE_UNAVAILABLE',
  'TIMEOUT',
  'INVALID_ARGUMENT',
  'INVALID_FILE',
  'INTERRUPTED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface LoopcheckErrorOptions {
  /** How to fix it, one short sentence. */
  hint?: string;
  /** The OS's own code: HRESULT on Windows, pa errno on PulseAudio, errno elsewhere. */
  osCode?: number;
  cause?: unknown;
}

export class LoopcheckError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly osCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: LoopcheckErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LoopcheckError';
    this.code = code;
    this.hint = options.hint;
    this.osCode = options.osCode;
  }

  /** One line for a terminal: `CODE: message (os code 0x…). Fix: hint` */
  toLine(): string {
    const os = this.osCode === undefined ? '' : ` (os code ${formatOsCode(this.osCode)})`;
    const hint = this.hint ? ` Fix: ${this.hint}` : '';
    return `${this.code}: ${this.message}${os}.${hint}`.replace(/\.\./g, '.');
  }
}

export function isLoopcheckError(e: unknown): e is LoopcheckError {
  return e instanceof LoopcheckError;
}

/** HRESULTs read best as hex (0x88890004); small errno values as decimal. */
export function formatOsCode(code: number): string {
  if (code < 0 || code > 0xffff) return `0x${(code >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
  return String(code);
}
