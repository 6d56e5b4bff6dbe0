import { plainToInstance } from 'class-transformer';
import { validate, ValidationError, ValidatorOptions } from 'class-validator';
import type { JobDefinition } from '../discovery/job-definition';
import { InvalidPayloadError, PayloadFieldError } from '../errors';
import { toStorableJson } from '../values';
import { plainCopy } from './payload-rules';

/**
 * Transforms a plain payload into the job's payload class and validates it. Returns the instance `perform`
 * receives (or the payload itself for jobs without a payload class). Throws `InvalidPayloadError` naming
 * the job and every failing field.
 */
export async function toValidPayload(
  definition: JobDefinition,
  payload: unknown,
  validatorOptions: ValidatorOptions,
  fieldPrefix = '',
): Promise<unknown> {
  const type = definition.payloadType;
  if (!type) return payload;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new InvalidPayloadError(definition.name, [
      { field: fieldPrefix || '(payload)', messages: [`must be an object of shape ${type.name}`] },
    ]);
  }
  const instance = plainToInstance(type, payload) as object;
  const errors = await validate(instance, validatorOptions);
  if (errors.length > 0) {
    throw new InvalidPayloadError(definition.name, flatten(errors, fieldPrefix));
  }
  return instance;
}

/** `trustedPayload`'s answer for a payload that must go through `toValidPayload`. */
export const UNTRUSTED = Symbol('untrusted payload');

/**
 * The payload a handler receives for a stored row, when it needs no validation: the payload itself for a
 * job without a payload class, or, for a row enqueued under the rules this process has (`recordedRules`
 * equals the class's fingerprint, see `PayloadRules`), an instance of the payload class built as
 * `plainToInstance` would (through `plainCopy` when the class has no class-transformer metadata): it
 * passed these exact rules at enqueue. `UNTRUSTED` for a row without a fingerprint (enqueued before it
 * was recorded) or with another one (the class's rules changed since: a deploy), to be validated as at
 * enqueue by `toValidPayload`. Synchronous, so the worker's usual path takes no promise here.
 */
export function trustedPayload(
  definition: JobDefinition,
  payload: unknown,
  recordedRules: string | null | undefined,
): unknown {
  const type = definition.payloadType;
  if (!type) return payload;
  const rules = definition.payloadRules;
  if (
    !rules?.fingerprint ||
    recordedRules !== rules.fingerprint ||
    payload === null ||
    typeof payload !== 'object' ||
    Array.isArray(payload)
  ) {
    return UNTRUSTED;
  }
  const copied = rules.plainCopy && plainCopy(type, payload as Record<string, unknown>);
  return copied || plainToInstance(type, payload);
}

/**
 * The JSON text stored for a payload, checked by `toStorableJson` in strict mode: it is returned only if
 * the worker will read back exactly this payload and PostgreSQL's `jsonb` stores it. Throws
 * `InvalidPayloadError` naming the path of the first problem (`$.items[3].sku`) otherwise: U+0000 or a
 * lone surrogate in a string or key, a function, `undefined` in an array (an `undefined` property is
 * simply left out), NaN or ±Infinity, a bigint, a
 * Map or Set or other class instance (allowed only for jobs with a payload class, which rebuilds them),
 * a cycle, more than 100 levels, or more than `maxBytes` of JSON (`maxPayloadBytes`). No payload
 * (`undefined`) and `null` are stored as JSON `null`.
 *
 * Call it before `toValidPayload`: class-transformer and class-validator recurse without a bound and
 * throw a raw `RangeError` on a cyclic or very deep payload, which this check refuses first.
 */
export function serializePayload(
  definition: JobDefinition,
  payload: unknown,
  maxBytes: number,
  fieldPrefix = '',
): string {
  const stored = toStorableJson(payload, {
    mode: 'strict',
    maxBytes,
    limitName: 'maxPayloadBytes',
    allowClassInstances: definition.payloadType !== undefined,
    // `{ note: dto.note }` without a note: the key is left out and `payload.note` is undefined anyway.
    allowUndefinedProperties: true,
  });
  if (stored.json !== undefined) return stored.json;
  // `$.items[3].sku` → `items[3].sku`, `[2].items[3].sku` in a bulk; the whole payload → `(payload)`.
  const field = `${fieldPrefix}${stored.path.slice(1)}`.replace(/^\./, '') || '(payload)';
  throw new InvalidPayloadError(definition.name, [{ field, messages: [stored.problem] }]);
}

function flatten(errors: ValidationError[], prefix: string): PayloadFieldError[] {
  const out: PayloadFieldError[] = [];
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) out.push({ field, messages: Object.values(error.constraints) });
    if (error.children?.length) out.push(...flatten(error.children, field));
  }
  return out;
}
