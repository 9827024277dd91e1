/**
 * What the import page sends of its mapping and transforms
 * (web/src/import/mapping.ts, transforms.ts): the PreviewImport request's
 * FieldMappings and POST /import's `mapping` JSON, read back by the service's
 * own request readers (the RPC's request codec and the HTTP route's form
 * reader) into the same transforms — so what the preview showed is what the
 * upload imports.
 */
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Entity } from "../../gen/dataexchange/records/v1/records_pb.js";
import { ImportHeaderSchema } from "../../gen/dataexchange/transfer/v1/transfer_pb.js";
import { importRequestFromFields } from "../../services/transfer/api/http/import-route.js";
import { importRequestOf } from "../../services/transfer/api/rpc/request-codec.js";
import { mappingsOf, wireMappingsOf, type ColumnMapping } from "../../web/src/import/mapping.js";
import type { ColumnTransforms } from "../../web/src/import/transforms.js";

const MAPPING: ColumnMapping = { Mail: "email", Login: "username", State: "status", Joined: "createdAt", Notes: "" };
const TRANSFORMS: ColumnTransforms = {
  Mail: [{ kind: "trim" }, { kind: "lowercase" }],
  State: [
    { kind: "default", value: "Open" },
    {
      kind: "map",
      // The blank row is the editor's, not the import's.
      rows: [
        { from: "Open", to: "active" },
        { from: "", to: "" },
        { from: "Gone", to: "suspended" },
      ],
      unmapped: "default",
      default: "active",
      caseInsensitive: true,
    },
  ],
  Joined: [{ kind: "date", format: "DD/MM/YYYY HH:mm", timeZone: " Europe/Paris " }],
  // A column left out sends no transforms, whatever the editor held for it.
  Notes: [{ kind: "template", value: "{Login}" }],
};

/** The service's transforms, as both readers make them (the RPC's says every optional flag). */
const EXPECTED = [
  { source: "Mail", field: "email", transforms: [{ kind: "trim" }, { kind: "lowercase" }] },
  { source: "Login", field: "username" },
  {
    source: "State",
    field: "status",
    transforms: [
      { kind: "default", value: "Open" },
      { kind: "map", values: { Open: "active", Gone: "suspended" }, unmapped: "default", default: "active", caseInsensitive: true },
    ],
  },
  { source: "Joined", field: "createdAt", transforms: [{ kind: "date", format: "DD/MM/YYYY HH:mm", timeZone: "Europe/Paris" }] },
  { source: "Notes", ignore: true },
];

describe("the import page's mapping with transforms", () => {
  it("reaches POST /import's form reader as the service's transforms, a left-out column without any", () => {
    const request = importRequestFromFields({ entity: "users", mapping: JSON.stringify(mappingsOf(MAPPING, TRANSFORMS)) }, "people.csv");
    expect(request.mapping).toEqual(EXPECTED);
  });

  it("reaches the RPC's request codec as the same transforms, in the same column order", () => {
    const header = create(ImportHeaderSchema, { entity: Entity.USERS, mappings: wireMappingsOf(MAPPING, TRANSFORMS) });
    const mapping = importRequestOf(header).mapping!;
    expect(mapping.map((m) => m.source)).toEqual(Object.keys(MAPPING));
    // The codec gives every mapped column a (maybe empty) list: compare what it says, not how.
    expect(mapping.map((m) => ({ ...m, ...(m.transforms?.length ? {} : { transforms: undefined }) }))).toEqual(EXPECTED.map((m) => ({ ...m, transforms: m.transforms })));
  });

  it("sends a map that keeps unlisted values without a default, and one that rejects them", () => {
    const keep: ColumnTransforms = { State: [{ kind: "map", rows: [{ from: "x", to: "active" }], unmapped: "keep", default: "ignored", caseInsensitive: false }] };
    const [state] = importRequestFromFields({ entity: "users", mapping: JSON.stringify(mappingsOf({ State: "status" }, keep)) }, "f.csv").mapping!;
    expect(state).toEqual({ source: "State", field: "status", transforms: [{ kind: "map", values: { x: "active" }, unmapped: "keep", caseInsensitive: false }] });
    const header = create(ImportHeaderSchema, { entity: Entity.USERS, mappings: wireMappingsOf({ State: "status" }, keep) });
    expect(importRequestOf(header).mapping![0]!.transforms).toEqual([{ kind: "map", values: { x: "active" }, unmapped: "keep", caseInsensitive: false }]);
  });
});
