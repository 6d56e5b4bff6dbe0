import { JobsError } from './jobs.error';

/** One failing field of a payload, as reported by class-validator. */
export interface PayloadFieldError {
  /** Dotted path of the field, e.g. `items.0.sku`. */
  field: string;
  /** The constraint messages, e.g. `['orderId must be a UUID']`. */
  messages: string[];
}

/**
 * Thrown by `performLater` / `performAllLater` / `performNow` when a payload does not validate against the
 * job's `payload` class. Nothing is written when it is thrown.
 */
export class InvalidPayloadError extends JobsError {
  constructor(
    readonly jobName: string,
    readonly fields: PayloadFieldError[],
  ) {
    super(
      `Invalid payload for job "${jobName}": ` +
        fields.map((f) => `${f.field} (${f.messages.join('; ')})`).join(', '),
    );
  }
}
