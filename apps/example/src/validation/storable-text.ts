import { Matches } from 'class-validator';

/**
 * Text PostgreSQL stores exactly: no U+0000 (text cannot hold it: the insert fails) and no lone UTF-16
 * surrogate (not valid Unicode: the driver would store U+FFFD instead, and a job payload holding one is
 * refused by the library). Refused in the request (400 naming the field) rather than failing later (500).
 * With the `u` flag, `\p{Cs}` matches only a surrogate that is not half of a pair.
 */
export const StorableText = (): PropertyDecorator =>
  Matches(/^[^\u0000\p{Cs}]*$/u, {
    message: '$property must not contain U+0000 or a lone surrogate',
  });
