import { FireTimes } from './fire-times';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('FireTimes', () => {
  it('fires */10 at Tokyo wall-clock times', () => {
    const tokyo = new FireTimes('*/10 * * * *', 'Asia/Tokyo');
    expect(
      iso(tokyo.between(new Date('2026-11-22T14:55:00Z'), new Date('2026-11-22T15:20:00Z'), 10)),
    ).toEqual([
      '2026-11-22T15:00:00.000Z', // 00:00 JST
      '2026-11-22T15:10:00.000Z',
      '2026-11-22T15:20:00.000Z',
    ]);
    // A daily 09:00 Tokyo schedule fires at 00:00 UTC.
    expect(
      new FireTimes('0 9 * * *', 'Asia/Tokyo').next(new Date('2026-11-22T01:00:00Z')).toISOString(),
    ).toBe('2026-11-23T00:00:00.000Z');
  });

  it('keeps wall-clock time across DST changes in New York', () => {
    const daily = new FireTimes('0 9 * * *', 'America/New_York');
    // 09:00 EDT = 13:00 UTC before 1 Nov 2026; 09:00 EST = 14:00 UTC after.
    expect(
      iso(daily.between(new Date('2026-10-31T00:00:00Z'), new Date('2026-11-02T23:00:00Z'), 5)),
    ).toEqual(['2026-10-31T13:00:00.000Z', '2026-11-01T14:00:00.000Z', '2026-11-02T14:00:00.000Z']);
    // Spring forward (8 Mar 2026): 09:00 EST = 14:00 UTC, then 09:00 EDT = 13:00 UTC.
    expect(
      iso(daily.between(new Date('2026-03-07T00:00:00Z'), new Date('2026-03-08T23:00:00Z'), 5)),
    ).toEqual(['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z']);
  });

  it('*/30 in a DST zone fires every half hour of real time through the repeated fall-back hour', () => {
    const ten = new FireTimes('*/30 * * * *', 'America/New_York');
    const times = ten.between(
      new Date('2026-11-01T04:45:00Z'),
      new Date('2026-11-01T07:05:00Z'),
      10,
    );
    // 00:45 EDT to 02:05 EST: 01:00 and 01:30 occur twice (EDT, then EST), and fire both times.
    expect(iso(times)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T06:30:00.000Z',
      '2026-11-01T07:00:00.000Z',
    ]);
  });

  it('names the tick running now by its scheduled time', () => {
    const everySecond = new FireTimes('* * * * * *');
    expect(everySecond.current(new Date('2026-11-22T14:55:00.180Z'))?.toISOString()).toBe(
      '2026-11-22T14:55:00.000Z',
    );
    expect(everySecond.current(new Date('2026-11-22T14:54:59.999Z'))?.toISOString()).toBe(
      '2026-11-22T14:55:00.000Z',
    );
    const nightly = new FireTimes('0 3 * * *', 'Asia/Tokyo');
    expect(nightly.current(new Date('2026-11-22T14:55:00Z'))?.toISOString()).toBe(
      '2026-11-21T18:00:00.000Z',
    );
  });

  it('rejects an invalid expression', () => {
    expect(() => new FireTimes('not a cron')).toThrow();
  });
});
