/**
 * Errors a user can cause (a bad flag, config field, file or hyper-parameter).
 * The CLI prints `error: <message>` on one line and exits with code 2; anything
 * else that escapes is a bug and keeps its stack trace.
 */
export class UserError extends Error {
  /** The field, flag or file the message is about (e.g. `optimizer.momentum`). */
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(field !== undefined && !message.includes(field) ? `${field}: ${message}` : message);
    this.name = 'UserError';
    this.field = field;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** Throws a UserError naming `field` unless `ok`. */
export function check(ok: boolean, field: string, message: string): asserts ok {
  if (!ok) throw new UserError(message, field);
}

/** An error as it crosses a thread boundary, where postMessage keeps no class: whether it is the user's, and its field. */
export interface ThreadError { message: string; stack: string | undefined; user: boolean; field: string | undefined }

export function toThreadError(e: unknown): ThreadError {
  const err = e instanceof Error ? e : new Error(String(e));
  return { message: err.message, stack: err.stack, user: isUserError(e), field: isUserError(e) ? e.field : undefined };
}

/** The error again on the receiving thread: a UserError (one line for the CLI) or a bug with the sender's stack. */
export function fromThreadError(t: ThreadError): Error {
  return t.user ? new UserError(t.message, t.field) : Object.assign(new Error(t.message), { stack: t.stack });
}
