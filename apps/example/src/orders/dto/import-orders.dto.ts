import { IsEmail, IsInt, IsNotEmpty, IsString, Max, MaxLength, Min } from 'class-validator';
import { StorableText } from '../../validation/storable-text';

/** Most rows one import request may enqueue. */
export const MAX_IMPORT_ROWS = 10_000;

/**
 * A bulk import of historic orders for the current account (`POST /orders/import`): `count` rows of
 * `item`, one background job each. A stand-in for a parsed CSV upload.
 */
export class ImportOrdersDto {
  @IsInt() @Min(1) @Max(MAX_IMPORT_ROWS) count: number;
  @IsString() @IsNotEmpty() @MaxLength(200) @StorableText() item: string;
  @IsEmail() email: string;
}
