import { plainToInstance } from 'class-transformer';
import { validate, ValidationError, ValidatorOptions } from 'class-validator';
import type { JobDefinition } from '../discovery/job-definition';
import { InvalidPayloadError, PayloadFieldError } from '../errors';

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

/**
 * The JSON text stored for a payload. Throws when the payload cannot be represented as JSON exactly
 * (functions, bigint, cycles) or is larger than `maxBytes`.
 */
export function serializePayload(
  definition: JobDefinition,
  payload: unknown,
  maxBytes: number,
): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload ?? null);
  } catch (error) {
    throw new InvalidPayloadError(definition.name, [
      { field: '(payload)', messages: [`is not JSON-serializable: ${(error as Error).message}`] },
    ]);
  }
  const bytes = Buffer.byteLength(json ?? 'null');
  if (bytes > maxBytes) {
    throw new InvalidPayloadError(definition.name, [
      {
        field: '(payload)',
        messages: [
          `is ${bytes} bytes of JSON, over the ${maxBytes}-byte limit (maxPayloadBytes); store large data elsewhere and pass its id`,
        ],
      },
    ]);
  }
  return json ?? 'null';
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
