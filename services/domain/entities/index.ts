/** The registry of entities, by name. */
import type { EntityName, EntitySpec } from "../entity-spec.js";
import { users } from "./users.js";
import { courses } from "./courses.js";
import { sessions } from "./sessions.js";
import { enrollments } from "./enrollments.js";
import { activity } from "./activity.js";

export const ENTITIES: Readonly<Record<EntityName, EntitySpec>> = { users, courses, sessions, enrollments, activity };

export const ENTITY_NAMES = Object.keys(ENTITIES) as EntityName[];

/** The entity of that name; undefined for any other name, `__proto__` and `constructor` included (own entries only). */
export function entitySpec(name: string): EntitySpec | undefined {
  return Object.hasOwn(ENTITIES, name) ? (ENTITIES as Record<string, EntitySpec>)[name] : undefined;
}

export { users, courses, sessions, enrollments, activity };
