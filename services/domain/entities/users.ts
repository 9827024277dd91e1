import { enumField, stringField, text, timestampField } from "../field-spec.js";
import type { EntitySpec } from "../entity-spec.js";
import { z } from "zod";

export const USER_ROLES = ["student", "teacher", "admin"] as const;
export const USER_STATUSES = ["active", "suspended"] as const;

/** Usernames are login ids and the id other records reference: no spaces, no slashes. */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]*$/;

const email = text({ max: 320 })
  .pipe(z.email("must be a valid email address"))
  .transform((value) => value.toLowerCase());

export const users: EntitySpec = {
  name: "users",
  label: "Users",
  fields: [
    stringField("email", "Email address", email, { required: true, keyPart: true, personal: true, description: "Natural key; stored lower-case." }),
    stringField("username", "Username", text({ max: 100, pattern: USERNAME_PATTERN, patternHint: "must start with a letter or digit and contain only letters, digits and . _ @ + -" }), {
      required: true,
      description: "Unique login id; what sessions, enrollments and activity call userId.",
    }),
    stringField("firstName", "First name", text({ max: 200 }), { personal: true }),
    stringField("lastName", "Last name", text({ max: 200 }), { personal: true }),
    enumField("role", "Role", USER_ROLES),
    enumField("status", "Status", USER_STATUSES),
    timestampField("createdAt", "Created at", { description: "Set on insert when not given." }),
    timestampField("updatedAt", "Updated at", { readOnly: true, description: "Set by the server on every change." }),
    stringField("password", "Password", text({ min: 8, max: 1024 }), { writeOnly: true, description: "Hashed with scrypt on write; never returned." }),
  ],
  keyFields: ["email"],
  uniqueFields: ["username"],
  timeFields: ["createdAt", "updatedAt"],
  indexedFields: ["status", "role"],
  references: [],
  appendOnly: false,
  changeField: "updatedAt",
  defaults: () => ({ role: "student", status: "active" }),
};
