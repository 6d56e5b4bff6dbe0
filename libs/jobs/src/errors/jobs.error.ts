/**
 * Base class of every error this library throws, so callers can `catch (e) { if (e instanceof JobsError) … }`.
 */
export class JobsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}
