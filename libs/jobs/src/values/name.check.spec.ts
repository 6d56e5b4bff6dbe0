import { checkName, NameKind } from './name.check';

const kinds: NameKind[] = ['jobName', 'queue', 'scheduleKey', 'uniqueKey'];

describe('checkName', () => {
  it.each(['orders.process', 'invoices:send-pending', 'Rechnungen', 'report-every-second', 'a'])(
    'accepts %p for every kind',
    (name) => {
      for (const kind of kinds) expect(checkName(name, kind)).toBeUndefined();
    },
  );

  it.each([
    ['', 'must be a non-empty string, got "".'],
    [undefined, 'must be a non-empty string, got undefined.'],
    [42, 'must be a non-empty string, got 42.'],
    ['a\u0000', 'must not contain U+0000'],
    ['a\udc00', 'lone UTF-16 surrogate'],
  ])('refuses %p for every kind', (value, problem) => {
    for (const kind of kinds) expect(checkName(value, kind)).toContain(problem);
  });

  it('bounds names at 255 characters and unique keys at 512 (btree row limit)', () => {
    expect(checkName('q'.repeat(255), 'queue')).toBeUndefined();
    expect(checkName('q'.repeat(256), 'queue')).toBe('must be at most 255 characters, got 256.');
    expect(checkName('k'.repeat(512), 'uniqueKey')).toBeUndefined();
    expect(checkName('k'.repeat(3_000), 'uniqueKey')).toBe(
      'must be at most 512 characters, got 3000.',
    );
  });

  it('refuses control characters and surrounding whitespace in identifiers, not in unique keys', () => {
    expect(checkName('mail\nforged log line', 'queue')).toBe(
      'must not contain control characters (U+000a at index 4), got "mail\\nforged log line".',
    );
    expect(checkName('mail ', 'queue')).toBe('must not start or end with whitespace, got "mail ".');
    expect(checkName(' orders.process', 'jobName')).toContain('whitespace');
    expect(checkName('tab\there', 'scheduleKey')).toContain('control characters');
    expect(checkName(' key\nwith\tdata ', 'uniqueKey')).toBeUndefined();
  });

  it('refuses the "*" wildcard as a queue name only', () => {
    expect(checkName('*', 'queue')).toContain('worker.queues reads as "every queue"');
    expect(checkName('*', 'uniqueKey')).toBeUndefined();
  });
});
