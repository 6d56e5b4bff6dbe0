import { Injectable } from '@nestjs/common';
import { JobDefinitionError } from '../errors';
import type { JobDefinition } from './job-definition';

/** Every job known to this process, by class and by name. Filled by the explorer at module init. */
@Injectable()
export class JobRegistry {
  private readonly byName = new Map<string, JobDefinition>();
  private readonly byType = new Map<unknown, JobDefinition>();

  add(definition: JobDefinition): void {
    const existing = this.byName.get(definition.name);
    if (existing && existing.type !== definition.type) {
      throw JobDefinitionError.duplicateName(
        definition.name,
        existing.type.name,
        definition.type.name,
      );
    }
    this.byName.set(definition.name, definition);
    this.byType.set(definition.type, definition);
  }

  /** The definition of a job class; throws a clear error for a class that is not a registered job. */
  forType(type: abstract new (...args: never[]) => unknown): JobDefinition {
    const definition = this.byType.get(type);
    if (!definition) throw JobDefinitionError.notRegistered(type.name);
    return definition;
  }

  forName(name: string): JobDefinition | undefined {
    return this.byName.get(name);
  }

  all(): JobDefinition[] {
    return [...this.byName.values()];
  }
}
