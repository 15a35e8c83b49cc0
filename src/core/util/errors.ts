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
