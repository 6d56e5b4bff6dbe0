import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { StorableText } from '../../validation/storable-text';

export class CreateAccountDto {
  @IsString() @IsNotEmpty() @MaxLength(200) @StorableText() name: string;
}
