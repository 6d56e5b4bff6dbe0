import { IsEmail, IsInt, IsNotEmpty, IsString, Max, MaxLength, Min } from 'class-validator';
import { NoNul } from '../../validation/no-nul';

export class CreateOrderDto {
  @IsString() @IsNotEmpty() @MaxLength(200) @NoNul() item: string;
  @IsInt() @Min(1) @Max(1000) quantity: number;
  @IsEmail() email: string;
}
