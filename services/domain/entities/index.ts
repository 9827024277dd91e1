/** The registry of entities, by name. */
import type { EntityName, EntitySpec } from "../entity-spec.js";
import { users } from "./users.js";
import { courses } from "./courses.js";
import { sessions } from "./sessions.js";
import { enrollments } from "./enrollments.js";
import { activity } from "./activity.js";

export const ENTITIES: Readonly<Record<EntityName, EntitySpec>> = { users, courses, sessions, enrollments, activity };

export const ENTITY_NAMES = Object.keys(ENTITIES) as EntityName[];

export function entitySpec(name: string): EntitySpec | undefined {
  return (ENTITIES as Record<string, EntitySpec>)[name];
}

export { users, courses, sessions, enrollments, activity };
