/** DescribeEntity's answer, derived from the entity's field table. */
import { create } from "@bufbuild/protobuf";
import type { EntitySpec } from "../../domain/index.js";
import { DescribeEntityResponseSchema, FieldInfoSchema, type DescribeEntityResponse } from "../../../gen/dataexchange/records/v1/records_pb.js";
import { entityEnum, wireFieldType } from "../../shared/records-wire/record-codec.js";

export function describeEntity(spec: EntitySpec): DescribeEntityResponse {
  return create(DescribeEntityResponseSchema, {
    entity: entityEnum(spec.name),
    name: spec.name,
    label: spec.label,
    keyFields: [...spec.keyFields],
    timeFields: [...spec.timeFields],
    appendOnly: spec.appendOnly,
    fields: spec.fields.map((f) =>
      create(FieldInfoSchema, {
        key: f.key,
        label: f.label,
        type: wireFieldType(f.type),
        required: f.required,
        keyPart: f.keyPart,
        allowedValues: f.allowedValues ? [...f.allowedValues] : [],
        writeOnly: f.writeOnly,
        readOnly: f.readOnly,
        personal: f.personal,
        joined: f.joined,
        description: f.description,
      }),
    ),
  });
}
