import { DEFAULT_LIMITS } from '../jobs-options';
import { ERROR_TEXT_MAX_BYTES, RESULT_MAX_BYTES } from '../values';
import { toErrorJson, toErrorRecord } from './error-record';

const at = new Date('2030-01-01T00:00:00Z');

describe('toErrorRecord', () => {
  it("caps message and stack at the module's limits, with the truncation marker", () => {
    const error = new Error('x'.repeat(10_000));
    error.stack = 'y'.repeat(10_000);
    const record = toErrorRecord(error, 2, at, {
      maxErrorMessageBytes: 100,
      maxErrorStackBytes: 200,
    });
    expect(Buffer.byteLength(record.message)).toBeLessThanOrEqual(100);
    expect(record.message).toMatch(/^x+… \[truncated \d+ bytes\]$/);
    expect(Buffer.byteLength(record.stack!)).toBeLessThanOrEqual(200);
    expect(record).toMatchObject({ attempt: 2, at: at.toISOString(), name: 'Error' });
  });

  it("uses values/' caps when no limits are given, and the module's defaults are the same", () => {
    const record = toErrorRecord(new Error('z'.repeat(20_000)), 1, at);
    expect(Buffer.byteLength(record.message)).toBeLessThanOrEqual(ERROR_TEXT_MAX_BYTES.message);
    expect(record.message.startsWith('zzz')).toBe(true);
    expect(DEFAULT_LIMITS).toEqual({
      maxResultBytes: RESULT_MAX_BYTES,
      maxErrorMessageBytes: ERROR_TEXT_MAX_BYTES.message,
      maxErrorStackBytes: ERROR_TEXT_MAX_BYTES.stack,
    });
  });

  it('toErrorJson makes any record storable JSON', () => {
    const json = toErrorJson({ attempt: 1, at: 'now', name: 'E\u0000', message: 'half \ud800' });
    expect(JSON.parse(json)).toMatchObject({ name: 'E\uFFFD', message: 'half \uFFFD' });
  });
});
