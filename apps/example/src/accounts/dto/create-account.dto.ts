import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { NoNul } from '../../validation/no-nul';

export class CreateAccountDto {
  @IsString() @IsNotEmpty() @MaxLength(200) @NoNul() name: string;
}
