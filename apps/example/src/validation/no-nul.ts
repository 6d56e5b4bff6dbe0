import { Matches } from 'class-validator';

/** PostgreSQL text cannot hold U+0000: refuse it in the request (400) rather than fail the insert (500). */
export const NoNul = (): PropertyDecorator =>
  Matches(/^[^\u0000]*$/, { message: '$property must not contain U+0000' });
