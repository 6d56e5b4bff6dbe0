import { IsEmail, IsInt, IsNotEmpty, IsString, Max, MaxLength, Min } from 'class-validator';
import { StorableText } from '../../validation/storable-text';

export class CreateOrderDto {
  @IsString() @IsNotEmpty() @MaxLength(200) @StorableText() item: string;
  @IsInt() @Min(1) @Max(1000) quantity: number;
  @IsEmail() email: string;
}
