import 'reflect-metadata';
import { Exclude, Expose, plainToInstance, Transform, Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  registerDecorator,
  Validate,
  ValidateNested,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { payloadRulesOf, plainCopy } from './payload-rules';

const OPTIONS = { forbidUnknownValues: true };
const fingerprintOf = (type: new () => object, options: object = OPTIONS) =>
  payloadRulesOf(type, options).fingerprint;

// Pairs of classes that differ in one rule each: every pair must fingerprint differently.
class MaxTen {
  @IsInt() @Max(10) n!: number;
}
class MaxTenAgain {
  @IsInt() @Max(10) n!: number;
}
class MaxNine {
  @IsInt() @Max(9) n!: number;
}
class MaxTenEach {
  @IsInt({ each: true }) @Max(10) n!: number;
}
class MaxTenInGroup {
  @IsInt({ groups: ['admin'] }) @Max(10) n!: number;
}
class WithDefault {
  @IsInt() @Max(10) n: number = 3;
}
class SkuA {
  @Matches(/^[A-Z]+$/) sku!: string;
}
class SkuB {
  @Matches(/^[A-Z]+$/i) sku!: string;
}

@ValidatorConstraint({ name: 'even' })
class EvenA implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'number' && value % 2 === 0;
  }
}
@ValidatorConstraint({ name: 'even' })
class EvenB implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'number' && value % 2 === 0 && value > 0;
  }
}
class UsesEvenA {
  @Validate(EvenA) n!: number;
}
class UsesEvenB {
  @Validate(EvenB) n!: number;
}

class Line {
  @IsString() sku!: string;
}
class StricterLine {
  @IsString() @IsIn(['a']) sku!: string;
}
class Order {
  @ValidateNested({ each: true }) @Type(() => Line) lines!: Line[];
}
class StricterOrder {
  @ValidateNested({ each: true }) @Type(() => StricterLine) lines!: Line[];
}
class Base {
  @IsInt() id!: number;
}
class Derived extends Base {
  @IsOptional() @IsString() note?: string;
}
class BaseStricter {
  @IsInt() @Max(5) id!: number;
}
class DerivedStricter extends BaseStricter {
  @IsOptional() @IsString() note?: string;
}

describe('payloadRulesOf', () => {
  it('gives one class, and a class with the same rules and source, the same fingerprint', () => {
    expect(fingerprintOf(MaxTen)).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(fingerprintOf(MaxTen)).toBe(payloadRulesOf(MaxTen, { ...OPTIONS }).fingerprint);
    // Another class name is other source text: a different fingerprint, which only costs a validation.
    expect(fingerprintOf(MaxTenAgain)).not.toBe(fingerprintOf(MaxTen));
  });

  it.each([
    ['a constraint', MaxTen, MaxNine],
    ['an option (each)', MaxTen, MaxTenEach],
    ['a group', MaxTen, MaxTenInGroup],
    ['a field default', MaxTen, WithDefault],
    ['a RegExp flag', SkuA, SkuB],
    ["a custom constraint's validate body", UsesEvenA, UsesEvenB],
    ["a nested class's rule", Order, StricterOrder],
    ["an ancestor's rule", Derived, DerivedStricter],
  ])('changes with %s', (_what, a, b) => {
    expect(fingerprintOf(a)).toBeDefined();
    expect(fingerprintOf(a)).not.toBe(fingerprintOf(b));
  });

  it('changes with the validator options', () => {
    expect(fingerprintOf(MaxTen, { forbidUnknownValues: true })).not.toBe(
      fingerprintOf(MaxTen, { forbidUnknownValues: true, groups: ['admin'] }),
    );
  });

  it('records no fingerprint under `whitelist` (validation strips properties: it must run)', () => {
    expect(payloadRulesOf(MaxTen, { whitelist: true }).fingerprint).toBeUndefined();
  });

  it('records none when a @Type function may name another class per payload, or throws', () => {
    class Dynamic {
      @ValidateNested()
      @Type((o) => ((o?.object as { kind?: string }).kind === 'a' ? Line : StricterLine))
      line!: Line;
    }
    class Throwing {
      @ValidateNested()
      @Type(() => {
        throw new Error('not now');
      })
      line!: Line;
    }
    expect(fingerprintOf(Dynamic)).toBeUndefined();
    expect(fingerprintOf(Throwing)).toBeUndefined();
  });

  it('covers registerDecorator validators by name and constraints, not by the body of their function', () => {
    const decorate =
      (name: string, body: (v: unknown) => boolean) => (target: object, key: string) =>
        registerDecorator({
          name,
          target: target.constructor,
          propertyName: key,
          validator: { validate: body },
        });
    class A {
      @decorate('isSku', (v) => v === 'a') sku!: string;
    }
    class B {
      @decorate('isSkuStrict', (v) => v === 'a') sku!: string;
    }
    expect(fingerprintOf(A)).not.toBe(fingerprintOf(B));
  });

  it('tells whether plainToInstance only copies (no class-transformer metadata in the class tree)', () => {
    expect(payloadRulesOf(MaxTen, OPTIONS).plainCopy).toBe(true);
    expect(payloadRulesOf(Derived, OPTIONS).plainCopy).toBe(true);
    expect(payloadRulesOf(Order, OPTIONS).plainCopy).toBe(false);
    class Exposed {
      @Expose({ name: 'n_' }) n!: number;
    }
    class Excluded {
      @Exclude() secret!: string;
    }
    class Transformed {
      @Transform(({ value }) => String(value)) n!: string;
    }
    class InheritsTransform extends Transformed {}
    for (const type of [Exposed, Excluded, Transformed, InheritsTransform]) {
      expect(payloadRulesOf(type, OPTIONS).plainCopy).toBe(false);
    }
  });
});

class Shape {
  @IsInt() n!: number;
  kind = 'shape';
  count = 0;
  handler = () => 'own function';
  get area(): number {
    return 42;
  }
  get label(): string {
    return 'l';
  }
  set label(_value: string) {
    // accepts and drops
  }
  describe(): string {
    return `shape ${this.n}`;
  }
}

describe('plainCopy', () => {
  // Payloads as the worker reads them back from jsonb (JSON.parse), the hostile ones included.
  const payloads: string[] = [
    '{"n":1}',
    '{}',
    '{"n":1,"extra":"kept","nested":{"a":[1,{"b":null}],"c":true}}',
    '{"kind":"square","count":7}',
    '{"area":1,"describe":"x","handler":"y","label":"z"}',
    '{"__proto__":{"polluted":true},"n":2}',
    '{"constructor":{"prototype":{"x":1}},"n":3}',
    '{"list":[[1,2],[],[{"deep":{"deeper":["s"]}}]]}',
    '{"s":"\\u0000 \\ud800 é 𝄞","big":1e308,"neg":-0}',
    '{"toString":"own","valueOf":1,"hasOwnProperty":2}',
  ];

  it.each(payloads)('builds what plainToInstance builds from %s', (json) => {
    const copied = plainCopy(Shape, JSON.parse(json) as Record<string, unknown>);
    const expected = plainToInstance(Shape, JSON.parse(json) as object);
    expect(copied).toBeInstanceOf(Shape);
    // Each instance has its own arrow function `handler`: compared by kind, the rest by value.
    const comparable = (o: object) => ({ ...o, handler: typeof (o as Shape).handler });
    expect(comparable(copied as object)).toStrictEqual(comparable(expected));
    expect(Object.keys(copied as object)).toEqual(Object.keys(expected));
    expect(Object.getPrototypeOf(copied)).toBe(Object.getPrototypeOf(expected));
    expect((copied as Shape).describe()).toBe(expected.describe());
  });

  it.each([
    '{"nested":{"constructor":1}}',
    '{"nested":{"toString":"x"}}',
    '{"list":[{"__proto__":{"x":1}}]}',
    '{"nested":{"hasOwnProperty":true}}',
  ])('leaves %s to plainToInstance (a nested key class-transformer treats specially)', (json) => {
    expect(plainCopy(Shape, JSON.parse(json) as Record<string, unknown>)).toBeUndefined();
  });

  it('copies nested values, so the handler cannot change the row it was read from', () => {
    const payload = { nested: { a: [1] } };
    const copied = plainCopy(Shape, payload) as unknown as typeof payload;
    copied.nested.a.push(2);
    expect(payload.nested.a).toEqual([1]);
  });
});
